"""What a model's tokens cost, for budgets and reports.

The built-in prices are defaults, copied from OpenAI's published list (standard tier, USD per
million tokens) and bound to go stale: users set their own with
`[llm.prices."model-name"] input = ..., output = ...`.  A model nobody priced (a local one,
say) costs 0.0: an unknown price must not stop a run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from codeplan.errors import ConfigError


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float


DEFAULT_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        "gpt-4o": Price(2.50, 10.00),
        "gpt-4o-mini": Price(0.15, 0.60),
        "gpt-4.1": Price(2.00, 8.00),
        "gpt-4.1-mini": Price(0.40, 1.60),
        "gpt-4.1-nano": Price(0.10, 0.40),
        "o3": Price(2.00, 8.00),
        "o3-mini": Price(1.10, 4.40),
        "o4-mini": Price(1.10, 4.40),
        "gpt-5": Price(1.25, 10.00),
        "gpt-5-mini": Price(0.25, 2.00),
        "gpt-5-nano": Price(0.05, 0.40),
    }
)

# "gpt-4o-2024-08-06" and "gpt-4-0613" are snapshots of "gpt-4o" and "gpt-4"
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4}|latest)$")


def price_table(overrides: Any = None) -> Mapping[str, Price]:
    """The default prices updated with the `[llm.prices]` table of a configuration."""
    if overrides is None:
        return DEFAULT_PRICES
    if not isinstance(overrides, Mapping):
        raise ConfigError("[llm.prices] must be a table of models")
    table = dict(DEFAULT_PRICES)
    for model, entry in overrides.items():
        where = f'[llm.prices."{model}"]'
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a table with input and output")
        unknown = set(entry) - {"input", "output"}
        if unknown:
            raise ConfigError(f"{where} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        table[str(model)] = Price(
            _per_million(entry, "input", where), _per_million(entry, "output", where)
        )
    return MappingProxyType(table)


def price_for(model: str, prices: Mapping[str, Price] = DEFAULT_PRICES) -> Price | None:
    """`model`'s price: its own entry, else its base model's ("openai/gpt-4o-2024-08-06")."""
    for name in _candidates(model):
        if name in prices:
            return prices[name]
    lowered = {key.lower(): price for key, price in prices.items()}
    for name in _candidates(model.lower()):
        if name in lowered:
            return lowered[name]
    return None


def cost_usd(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    prices: Mapping[str, Price] = DEFAULT_PRICES,
) -> float:
    """What the tokens cost in USD; 0.0 for a model without a price."""
    price = price_for(model, prices)
    if price is None:
        return 0.0
    return (prompt_tokens * price.input + completion_tokens * price.output) / 1_000_000


def _candidates(model: str) -> list[str]:
    names = [model]
    if "/" in model:  # a router's "provider/model"
        names.append(model.rsplit("/", 1)[1])
    names += [_SNAPSHOT.sub("", name) for name in names]
    return names


def _per_million(entry: Mapping[str, Any], key: str, where: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where} {key} must be a non-negative number (USD per 1M tokens)")
    return float(value)
