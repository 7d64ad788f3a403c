"""The plan graph: obligations (a block to edit, and why) and the edits that discharged them.

Obligations and edits are frozen values; the `PlanGraph` holding them is the one mutable
object of a run, and it serialises to JSON after every step so a run can be resumed.

Decisions the CodePlan paper left open, made here:
- *Scheduling*: breadth-first by plan depth (seeds are depth 0, what an edit at depth d
  impacts is depth d+1), so every cause is edited before its effects; ties go by the
  impact rule's priority, then path and line, so the order never depends on timing.
- *One obligation per block at a time*: a block impacted again while still pending gains
  the new cause instead of a second obligation; a block impacted after it was done gets a
  new obligation (the paper's re-edit), up to `max_edits_per_block`.
- *Cycles* end there: each re-edit needs an actual change of a related block, and the
  per-block bound stops ping-pong between two blocks.
- *"No change"* closes the obligation and propagates nothing; so does an edit whose
  change has no impact label (comments, formatting).
- *Triage*: with an editor that can triage, the derived obligations of one depth are
  first asked about together ("which of these need an edit?", plan/triage.py); those it
  leaves out are closed as "no change" without an edit request of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any


class ObligationStatus(str, Enum):
    PENDING = "pending"
    EDITED = "edited"
    NO_CHANGE = "no-change"
    REJECTED = "rejected"  # every answer was malformed or changed too much
    SKIPPED = "skipped"  # the block vanished, is too large, or hit the re-edit bound


@dataclass(frozen=True)
class Cause:
    """Why an obligation exists: the task, an earlier edit through a relation, an oracle."""

    kind: str  # "seed" | "edit" | "oracle"
    reason: str  # one sentence, shown to the editor
    edit_id: int | None = None  # for kind "edit": the edit that impacted this block
    relation: str | None = None  # for kind "edit": e.g. "CalledBy"


@dataclass(frozen=True)
class Obligation:
    id: int
    block_id: str
    instruction: str
    depth: int
    priority: int
    causes: tuple[Cause, ...]
    status: ObligationStatus = ObligationStatus.PENDING
    note: str = ""  # why it was skipped or rejected, for reports
    attempts: int = 0
    triaged: bool = False  # a triage kept it: it is not asked about in a triage again


@dataclass(frozen=True)
class Edit:
    id: int
    obligation_id: int
    path: str
    qualname: str
    before: str
    after: str
    labels: tuple[str, ...]  # change labels of the edited blocks
    impacted: tuple[str, ...]  # block ids given an obligation by this edit
    commit: str | None = None


class PlanGraph:
    def __init__(self) -> None:
        self.obligations: dict[int, Obligation] = {}
        self.edits: dict[int, Edit] = {}

    # -- growth ---------------------------------------------------------------------------

    def add(
        self, block_id: str, instruction: str, cause: Cause, *, depth: int, priority: int = 0
    ) -> Obligation:
        """A new pending obligation, or the pending one for this block with one more cause."""
        for existing in self.pending():
            if existing.block_id == block_id:
                if cause in existing.causes:
                    return existing
                merged = replace(
                    existing,
                    causes=(*existing.causes, cause),
                    depth=min(existing.depth, depth),
                    priority=min(existing.priority, priority),
                )
                self.obligations[existing.id] = merged
                return merged
        obligation = Obligation(
            id=len(self.obligations) + 1,
            block_id=block_id,
            instruction=instruction,
            depth=depth,
            priority=priority,
            causes=(cause,),
        )
        self.obligations[obligation.id] = obligation
        return obligation

    def record_edit(self, edit: Edit) -> None:
        self.edits[edit.id] = edit

    def next_edit_id(self) -> int:
        return len(self.edits) + 1

    def settle(self, obligation_id: int, status: ObligationStatus, note: str = "") -> None:
        self.obligations[obligation_id] = replace(
            self.obligations[obligation_id], status=status, note=note
        )

    def mark_triaged(self, obligation_id: int) -> None:
        self.obligations[obligation_id] = replace(self.obligations[obligation_id], triaged=True)

    def count_attempt(self, obligation_id: int) -> None:
        current = self.obligations[obligation_id]
        self.obligations[obligation_id] = replace(current, attempts=current.attempts + 1)

    # -- queries --------------------------------------------------------------------------

    def pending(self) -> Iterator[Obligation]:
        return (o for o in self.obligations.values() if o.status is ObligationStatus.PENDING)

    def schedule(self) -> list[Obligation]:
        """Pending obligations in the order they are taken."""
        return sorted(self.pending(), key=lambda o: (o.depth, o.priority, o.block_id, o.id))

    def edits_of_block(self, block_id: str) -> int:
        owners = {e.obligation_id for e in self.edits.values()}
        return sum(
            1
            for o in self.obligations.values()
            if o.block_id == block_id and o.id in owners and o.status is ObligationStatus.EDITED
        )

    def edits_leading_to(self, obligation: Obligation, limit: int) -> list[Edit]:
        """Temporal context: the edits on the plan paths that led to `obligation`, the
        nearest first (its direct causes, then their causes...)."""
        found: list[Edit] = []
        seen: set[int] = set()
        frontier = [c.edit_id for c in obligation.causes if c.edit_id is not None]
        while frontier and len(found) < limit:
            next_frontier: list[int | None] = []
            for edit_id in frontier:
                if edit_id is None or edit_id in seen or edit_id not in self.edits:
                    continue
                seen.add(edit_id)
                edit = self.edits[edit_id]
                found.append(edit)
                owner = self.obligations.get(edit.obligation_id)
                if owner is not None:
                    next_frontier.extend(c.edit_id for c in owner.causes)
            frontier = [e for e in next_frontier if e is not None]
        return found[:limit]

    def children_of(self, edit_id: int) -> list[Obligation]:
        return [o for o in self.obligations.values() if any(c.edit_id == edit_id for c in o.causes)]

    def counts(self) -> dict[str, int]:
        tally = {status.value: 0 for status in ObligationStatus}
        for obligation in self.obligations.values():
            tally[obligation.status.value] += 1
        return tally

    # -- persistence ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "obligations": [
                {**asdict(o), "status": o.status.value} for o in self.obligations.values()
            ],
            "edits": [asdict(e) for e in self.edits.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanGraph:
        plan = cls()
        for item in data.get("obligations", []):
            causes = tuple(Cause(**c) for c in item["causes"])
            status = ObligationStatus(item["status"])
            obligation = Obligation(**{**item, "causes": causes, "status": status})
            plan.obligations[obligation.id] = obligation
        for item in data.get("edits", []):
            edit = Edit(
                **{**item, "labels": tuple(item["labels"]), "impacted": tuple(item["impacted"])}
            )
            plan.edits[edit.id] = edit
        return plan
