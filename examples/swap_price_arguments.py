"""Deterministic editors for the planner tests: codemods that act like a perfect LLM.

`SwapPriceArguments` carries out one real multi-file change on the bundled example:
`price_with_tax(amount, category)` becomes `price_with_tax(category, amount)`, and every
call must follow.  As an editor it answers each request from the block's own text, so it
does exactly what a good model would, and answers "no change" where nothing is needed.
"""

from __future__ import annotations

import re

from codeplan.edit.model import EditRequest

FUNCTION = "price_with_tax"
TASK = "Swap the parameters of price_with_tax: the category comes first, then the amount."
NEW_SIGNATURE = "def price_with_tax(category: str, amount: Decimal) -> Decimal:"
OLD_SIGNATURE = "def price_with_tax(amount: Decimal, category: str) -> Decimal:"


def swap_calls(text: str) -> str:
    """Swap the two arguments of every `price_with_tax(a, b)` call in `text`."""
    out, cursor = [], 0
    for match in re.finditer(rf"\b{FUNCTION}\(", text):
        if text[max(0, match.start() - 4) : match.start()] == "def ":
            continue
        start = match.end()
        depth, split, end = 0, None, None
        for index in range(start, len(text)):
            char = text[index]
            if char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    end = index
                    break
                depth -= 1
            elif char == "," and depth == 0 and split is None:
                split = index
        if split is None or end is None:
            continue
        first, second = text[start:split].strip(), text[split + 1 : end].strip()
        out.append(text[cursor:start] + f"{second}, {first}")
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def swapped(source: str) -> str | None:
    new = swap_calls(source.replace(OLD_SIGNATURE, NEW_SIGNATURE))
    return new if new != source else None


class SwapPriceArguments:
    """The editor (usable as `--editor examples/swap_price_arguments.py:SwapPriceArguments`)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, request: EditRequest) -> str | None:
        self.asked.append(request.block_id)
        return swapped(request.source)
