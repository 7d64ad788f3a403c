"""The adaptive planning loop of the CodePlan paper.

Take pending obligations (breadth-first, see plan/model.py), ask the editor, apply the
answer safely, classify the change, update the graph, add what it may impact; at the
fixed point ask the oracle, whose new diagnostics become seeds.  The plan is saved after
every step through the journal, so a crash, a spent budget or Ctrl-C leaves a resumable
run.  Everything else (git, HTTP, the file system) is behind the `Tree`, `Editor`,
`Oracle` and `Journal` interfaces.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from codeplan.edit.apply import Applied, Rejected, apply_answer, block_text
from codeplan.edit.model import (
    Editor,
    EditRequest,
    MeteredEditor,
    TriageRequest,
    TriagingEditor,
    Usage,
)
from codeplan.edit.sketch import Sketch, can_outline
from codeplan.errors import EditError, ValidationError
from codeplan.graph.builder import GraphBuilder
from codeplan.graph.model import Block
from codeplan.impact.classify import ChangeLabel
from codeplan.impact.rules import DEFAULT_RULES, Follow
from codeplan.plan.budget import Budget, BudgetSpent
from codeplan.plan.context import ContextLimits, build_request
from codeplan.plan.model import Cause, Edit, Obligation, ObligationStatus, PlanGraph
from codeplan.plan.propagation import FileChange, add_impacted, labels_of, update_graph
from codeplan.plan.triage import TriageLimits, triage_groups
from codeplan.validate.model import Diagnostic, Oracle

TRIAGED_OUT = "a triage found it needs no change"


class Tree(Protocol):
    """The files being edited (a git worktree in the product, any folder in tests)."""

    @property
    def root(self) -> Path: ...

    def read(self, path: str) -> bytes | None: ...

    def write(self, path: str, data: bytes) -> None: ...

    def commit(self, message: str) -> str | None: ...


class Journal(Protocol):
    def event(self, kind: str, **fields: Any) -> None: ...

    def checkpoint(self, plan: PlanGraph, progress: Progress) -> None: ...


@dataclass(frozen=True)
class Progress:
    """The loop's own state beside the plan, persisted with it."""

    status: str = "running"  # running | done | unresolved | stopped | interrupted
    reason: str = ""
    oracle_rounds: int = 0
    baseline: tuple[tuple[str, str, str], ...] | None = None  # keys of known diagnostics
    remaining: tuple[str, ...] = ()  # diagnostics the last validation still reported
    edits_validated: int = 0  # edits in the plan when it was last validated
    seconds: float = 0.0  # spent in earlier sessions of this run
    usage: Usage = field(default_factory=Usage)  # spent in earlier sessions


@dataclass(frozen=True)
class PlannerOptions:
    concurrency: int = 1
    # larger blocks are skipped (reported), not sent whole; larger Python classes are sent
    # as their outline (every member's body folded)
    max_block_lines: int = 400
    limits: ContextLimits = field(default_factory=ContextLimits)
    rules: Mapping[ChangeLabel, tuple[Follow, ...]] = field(default_factory=lambda: DEFAULT_RULES)
    screen_calls: bool = False  # [impact] screen_calls: see propagation.update_graph
    triage: bool = True  # [plan] triage, with an editor that can: see plan/triage.py
    triage_limits: TriageLimits = field(default_factory=TriageLimits)


class PlanLoop:
    def __init__(
        self,
        builder: GraphBuilder,
        tree: Tree,
        editor: Editor,
        journal: Journal,
        *,
        task: str,
        oracle: Oracle | None = None,
        budget: Budget | None = None,
        options: PlannerOptions | None = None,
    ) -> None:
        self.builder, self.tree, self.editor, self.journal = builder, tree, editor, journal
        self.task, self.oracle = task, oracle
        self.budget = budget or Budget()
        self.options = options or PlannerOptions()
        self._calls = 0  # for editors that do not meter themselves
        self._started = time.monotonic()

    def run(self, plan: PlanGraph, progress: Progress) -> Progress:
        self._started = time.monotonic()
        self._before = progress
        try:
            while True:
                while batch := self._next_batch(plan, progress):
                    self._ask_and_apply(plan, batch, progress)
                if self.oracle is None:
                    progress = self._finish(progress, "done", "fixed point reached")
                    break
                if progress.oracle_rounds and len(plan.edits) == progress.edits_validated:
                    note = "validation fails and the editor changed nothing it pointed at"
                    progress = self._finish(progress, "unresolved", note)
                    break
                if progress.oracle_rounds >= self.budget.max_oracle_rounds:
                    rounds = progress.oracle_rounds
                    note = f"validation still fails after {rounds} rounds of repairs"
                    progress = self._finish(progress, "unresolved", note)
                    break
                progress = self._validate(plan, progress)
                if progress.status != "running":
                    break
        except BudgetSpent as spent:
            progress = self._finish(progress, "stopped", str(spent))
        except (EditError, ValidationError) as error:
            # the endpoint or the oracle failed, not the plan: stop where we are, resumable
            progress = self._finish(progress, "stopped", str(error))
        except KeyboardInterrupt:
            progress = self._finish(progress, "interrupted", "interrupted by the user")
            self.journal.checkpoint(plan, progress)
            raise
        self.journal.checkpoint(plan, progress)
        return progress

    @property
    def usage(self) -> Usage:
        spent = self.editor.usage if isinstance(self.editor, MeteredEditor) else Usage(self._calls)
        return self._before.usage + spent

    # -- one step -------------------------------------------------------------------------

    def _next_batch(self, plan: PlanGraph, progress: Progress) -> list[Obligation]:
        self._triage(plan, progress)
        return self._take_batch(plan)

    def _triage(self, plan: PlanGraph, progress: Progress) -> None:
        """Close the due derived obligations a triage says need no edit (plan/triage.py)."""
        if not self.options.triage or not isinstance(self.editor, TriagingEditor):
            return
        groups = triage_groups(
            plan, self.builder.graph, self.tree.read, self.task, self.options.limits,
            self.options.triage_limits,
        )  # fmt: skip
        if not groups:
            return
        editor = self.editor

        def ask(request: TriageRequest) -> frozenset[str]:
            self._check_budget()
            self._calls += 1
            return editor.triage(request)

        if len(groups) == 1 or self.options.concurrency <= 1:
            answers = [ask(group.request) for group in groups]
        else:
            with ThreadPoolExecutor(max_workers=self.options.concurrency) as pool:
                answers = list(pool.map(ask, [group.request for group in groups]))
        for group, kept in zip(groups, answers, strict=True):
            for obligation in group.obligations:
                if obligation.block_id in kept:
                    plan.mark_triaged(obligation.id)
                else:
                    plan.settle(obligation.id, ObligationStatus.NO_CHANGE, TRIAGED_OUT)
            self.journal.event(
                "triage",
                kept=[o.block_id for o in group.obligations if o.block_id in kept],
                closed=[o.block_id for o in group.obligations if o.block_id not in kept],
            )
        self.journal.checkpoint(plan, self._current(progress))

    def _take_batch(self, plan: PlanGraph) -> list[Obligation]:
        batch: list[Obligation] = []
        paths: set[str] = set()
        for obligation in plan.schedule():
            block = self.builder.graph.get(obligation.block_id)
            if block is None:
                plan.settle(obligation.id, ObligationStatus.SKIPPED, "the block no longer exists")
                continue
            if self._too_long(block) and not can_outline(block):
                note = f"the block has more than {self.options.max_block_lines} lines"
                plan.settle(obligation.id, ObligationStatus.SKIPPED, note)
                continue
            if batch and (obligation.depth != batch[0].depth or block.path in paths):
                continue  # one edit per file per batch keeps byte ranges valid
            batch.append(obligation)
            paths.add(block.path)
            if len(batch) >= self.options.concurrency:
                break
        return batch

    def _ask_and_apply(self, plan: PlanGraph, batch: list[Obligation], progress: Progress) -> None:
        self._check_budget()
        prepared = []
        for obligation in batch:
            block = self.builder.graph.block(obligation.block_id)
            request, sketch = build_request(
                self.builder.graph, plan, obligation, block, self.tree.read, self.task,
                self.options.limits, outline=self._too_long(block),
            )  # fmt: skip
            prepared.append((obligation, request, sketch))
        answers = self._ask_all([request for _, request, _ in prepared])
        for (obligation, request, sketch), answer in zip(prepared, answers, strict=True):
            self._settle(plan, obligation, request, sketch, answer)
            self.journal.checkpoint(plan, self._current(progress))

    def _ask_all(self, requests: Sequence[EditRequest]) -> list[str | None]:
        if len(requests) == 1 or self.options.concurrency <= 1:
            return [self._ask(r) for r in requests]
        with ThreadPoolExecutor(max_workers=self.options.concurrency) as pool:
            return list(pool.map(self._ask, requests))  # map keeps the request order

    def _ask(self, request: EditRequest) -> str | None:
        self._calls += 1
        self.journal.event("ask", block=request.block_id, feedback=list(request.context.feedback))
        return self.editor(request)

    def _settle(
        self,
        plan: PlanGraph,
        obligation: Obligation,
        request: EditRequest,
        sketch: Sketch | None,
        answer: str | None,
    ) -> None:
        while True:
            plan.count_attempt(obligation.id)
            if answer is None:
                plan.settle(obligation.id, ObligationStatus.NO_CHANGE)
                self.journal.event("no-change", block=obligation.block_id)
                return
            block = self.builder.graph.block(obligation.block_id)
            file = self.tree.read(block.path) or b""
            if not _as_asked(file, block, request, sketch):
                return  # changed under us by an earlier edit of this batch: asked again later
            outcome = apply_answer(file, block, answer, sketch=sketch)
            if isinstance(outcome, Applied):
                self._record(plan, obligation, block, request, file, outcome)
                return
            if not isinstance(outcome, Rejected):  # the answer repeats the block
                plan.settle(obligation.id, ObligationStatus.NO_CHANGE, "answer was unchanged")
                self.journal.event("no-change", block=obligation.block_id)
                return
            self.journal.event("rejected", block=obligation.block_id, reason=outcome.reason)
            if plan.obligations[obligation.id].attempts >= self.budget.max_attempts:
                plan.settle(obligation.id, ObligationStatus.REJECTED, outcome.reason)
                return
            self._check_budget()
            feedback = (*request.context.feedback, outcome.reason)
            request = replace(request, context=replace(request.context, feedback=feedback))
            answer = self._ask(request)

    def _record(
        self,
        plan: PlanGraph,
        obligation: Obligation,
        block: Block,
        request: EditRequest,
        file: bytes,
        outcome: Applied,
    ) -> None:
        self.tree.write(block.path, outcome.new_file)
        report = update_graph(
            self.builder,
            [FileChange(block.path, file, outcome.new_file)],
            self.options.rules,
            screen_calls=self.options.screen_calls,
        )
        edit_id = plan.next_edit_id()
        changed = {c.change.block.id: edit_id for c in report.changes}
        changed.update({c.change.old.id: edit_id for c in report.changes if c.change.old})
        impacted = add_impacted(
            plan,
            report,
            changed,
            depth=obligation.depth + 1,
            max_edits_per_block=self.budget.max_edits_per_block,
        )
        after_block = self._block_after(block, report)
        after = block_text(outcome.new_file, after_block) if after_block else ""
        commit = self.tree.commit(f"codeplan: edit {block.qualname or block.path}")
        edit = Edit(
            id=edit_id,
            obligation_id=obligation.id,
            path=block.path,
            qualname=block.qualname,
            before=block_text(file, block),  # the class's text, not its outline
            after=after,
            labels=labels_of(report),
            impacted=tuple(impacted),
            commit=commit,
        )
        plan.record_edit(edit)
        plan.settle(obligation.id, ObligationStatus.EDITED)
        self.journal.event(
            "edit", block=block.id, labels=list(edit.labels), impacted=list(impacted),
            commit=commit,
        )  # fmt: skip

    def _block_after(self, block: Block, report: Any) -> Block | None:
        current = self.builder.graph.get(block.id)
        if current is not None:
            return current
        for change in report.changes:  # renamed
            if change.change.old is not None and change.change.old.id == block.id:
                new: Block | None = change.change.new
                return new
        return None

    # -- validation -----------------------------------------------------------------------

    def _validate(self, plan: PlanGraph, progress: Progress) -> Progress:
        assert self.oracle is not None
        self._check_budget()
        changed = sorted({e.path for e in plan.edits.values()})
        self.journal.event("validating", paths=changed)
        report = self.oracle.validate(self.tree.root, changed)
        if progress.baseline is not None:
            report = report.without(set(progress.baseline))
        rounds = progress.oracle_rounds + 1
        self.journal.event(
            "validate",
            round=rounds,
            ok=report.ok,
            diagnostics=[d.message for d in report.diagnostics],
        )
        remaining = tuple(f"{d.check}: {d.message}" for d in report.diagnostics)
        progress = replace(
            progress, oracle_rounds=rounds, remaining=remaining, edits_validated=len(plan.edits)
        )
        if report.ok:
            return self._finish(progress, "done", "fixed point reached and validation passed")
        seeded = sum(self._seed_from(plan, d) for d in report.diagnostics)
        if not seeded:
            note = "validation failed and no diagnostic points into editable code"
            return self._finish(progress, "unresolved", note)
        return progress

    def _seed_from(self, plan: PlanGraph, diagnostic: Diagnostic) -> int:
        """A seed for the innermost blocks the diagnostic points at (up to two: where it
        failed, and the test or call site that exposed it)."""
        seeded: list[str] = []
        for location in diagnostic.locations:
            block = self.builder.block_at(location.path, location.line)
            if block is None or block.id in seeded or not block.qualname:
                continue
            if plan.edits_of_block(block.id) >= self.budget.max_edits_per_block:
                continue
            instruction = (
                f"Validation ({diagnostic.check}) reports: {diagnostic.message.strip()}\n"
                "Fix this block if the problem lies here; otherwise answer NO CHANGE."
            )
            reason = f"{diagnostic.check} failure" + (
                f" in {diagnostic.test_id}" if diagnostic.test_id else ""
            )
            plan.add(block.id, instruction, Cause("oracle", reason), depth=0)
            seeded.append(block.id)
            if len(seeded) == 2:
                break
        return len(seeded)

    # -- bookkeeping ------------------------------------------------------------------------

    def _too_long(self, block: Block) -> bool:
        return block.end_line - block.start_line + 1 > self.options.max_block_lines

    def _check_budget(self) -> None:
        spent = self.budget.exceeded(self.usage, self._seconds())
        if spent is not None:
            raise BudgetSpent(spent)

    def _seconds(self) -> float:
        return self._before.seconds + (time.monotonic() - self._started)

    def _current(self, progress: Progress) -> Progress:
        return replace(progress, seconds=self._seconds(), usage=self.usage)

    def _finish(self, progress: Progress, status: str, reason: str) -> Progress:
        self.journal.event("finish", status=status, reason=reason)
        return replace(self._current(progress), status=status, reason=reason)


def _as_asked(file: bytes, block: Block, request: EditRequest, sketch: Sketch | None) -> bool:
    """Whether the block is still what the editor was shown."""
    if sketch is not None and sketch.is_outline:
        # the editor saw an outline, but merging its answer needs the whole class unchanged
        return sketch.made_from(file)
    return block_text(file, block) == request.source
