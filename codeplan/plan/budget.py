"""Budgets: when one is spent the run stops cleanly, its state saved, and can be resumed
(with a larger budget).  Limits of None mean "no limit"."""

from __future__ import annotations

from dataclasses import dataclass

from codeplan.edit.model import Usage


@dataclass(frozen=True)
class Budget:
    max_calls: int | None = None  # editor calls, retries included
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_seconds: float | None = None  # wall time across the run's sessions
    max_edits_per_block: int = 3  # re-edits of one block (cycle bound)
    max_attempts: int = 3  # answers asked for one obligation when they are rejected
    max_oracle_rounds: int = 3  # validations whose diagnostics become new seeds

    def exceeded(self, usage: Usage, seconds: float) -> str | None:
        """Which limit is spent, in words, or None."""
        if self.max_calls is not None and usage.calls >= self.max_calls:
            return f"the editor-call budget ({self.max_calls}) is spent"
        if self.max_tokens is not None and usage.tokens >= self.max_tokens:
            return f"the token budget ({self.max_tokens:,}) is spent"
        if self.max_cost_usd is not None and usage.cost_usd >= self.max_cost_usd:
            return f"the cost budget (${self.max_cost_usd:.2f}) is spent"
        if self.max_seconds is not None and seconds >= self.max_seconds:
            return f"the time budget ({self.max_seconds:.0f} s) is spent"
        return None


class BudgetSpent(Exception):
    """Raised inside the planner loop; the loop turns it into a stopped, resumable run."""
