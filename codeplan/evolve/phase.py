"""The tests a change made obsolete, updated on a workspace: identify them (statically,
then by running them in the sandbox), ask the editor to update each broken or stale one
with the sandbox run of that test as its oracle, and commit.

`codeplan tests evolve` does this on a branch of its own (`evolve.py`); a planner run with
`evolve_tests` does it once its production obligations are done (`update_tests_after_run`),
and each update becomes an obligation of kind "test-update" in its plan."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import git

from codeplan.config import read_config
from codeplan.deliver.gitops import revision_tree
from codeplan.deliver.workspace import Workspace
from codeplan.edit.model import (
    Editor,
    EditRequest,
    MeteredEditor,
    TriageRequest,
    TriagingEditor,
    Usage,
)
from codeplan.errors import EditError, SandboxError
from codeplan.evolve.changes import production_changes
from codeplan.evolve.experiences import ExperienceBank
from codeplan.evolve.identify import identify
from codeplan.evolve.imports import RunTest
from codeplan.evolve.judge import judge_passing_tests
from codeplan.evolve.model import Experience, ImpactedTest, ProductionChange, TestStatus
from codeplan.evolve.retrieve import ExperienceIndex
from codeplan.evolve.rules import Rule, learn_rules
from codeplan.evolve.sweep import sweep_suite
from codeplan.evolve.update import INSTRUCTION, TestUpdater, TraceTest, UpdateOutcome
from codeplan.graph import GraphOptions
from codeplan.graph.builder import GraphBuilder
from codeplan.plan.budget import Budget, BudgetSpent
from codeplan.plan.model import Cause, Edit, ObligationStatus, PlanGraph
from codeplan.plan.planner import Journal, Progress
from codeplan.sandbox.oracle import SandboxOracle
from codeplan.sandbox.session import Sandbox, open_sandbox
from codeplan.validate.model import Oracle

OBSOLETE = (TestStatus.BROKEN, TestStatus.STALE)
CAUSE_KIND = "test-update"
COMMIT_MESSAGE = "codeplan: update the tests the production change made obsolete"

SandboxFactory = Callable[[], Sandbox]


@dataclass(frozen=True)
class TestUpdates:
    __test__ = False  # not a pytest test class, despite the name

    identified: tuple[ImpactedTest, ...]
    outcomes: tuple[UpdateOutcome, ...]  # one per obsolete test
    commit: str | None  # the commit holding the updates; None when nothing was written

    @property
    def left_obsolete(self) -> tuple[UpdateOutcome, ...]:
        """Updates that did not settle their test."""
        return tuple(o for o in self.outcomes if not o.settled)


def update_obsolete_tests(
    workspace: Workspace,
    builder: GraphBuilder,
    editor: Editor,
    sandbox: Sandbox,
    base: str,
    *,
    repo_root: Path,
    attempts: int = 3,
    examples: int = 3,
    history_commits: int = 500,
    judge: bool = False,
) -> TestUpdates:
    """The change from `base` to the worktree's tip: its obsolete tests, updated and
    committed.  `base` must name a commit outside the worktree (a sha: the worktree's own
    HEAD is the branch tip); `repo_root` is the user's project, whose history gives the
    worked examples and whose analysis cache the worktree shares."""
    with git.Repo(workspace.toplevel) as repo:
        head = repo.head.commit.hexsha
    options = GraphOptions(cache_dir=repo_root / ".codeplan")
    found = identify(workspace.root, base, head, options=options)
    # the whole suite: a test the change breaks is obsolete whether or not a static link
    # reaches it (evolve/sweep.py)
    with revision_tree(workspace.root, base) as base_tree:
        identified = sweep_suite(found, sandbox, workspace.root, base_tree)
    judging = judge and isinstance(editor, TriagingEditor) and found.graph is not None
    if not judging and not any(t.status in OBSOLETE for t in identified):
        return TestUpdates(tuple(identified), (), None)
    changes = production_changes(workspace.root, base, head)
    if judging:
        # the LLM stage: which passing tests check what the change altered (evolve/judge.py)
        assert isinstance(editor, TriagingEditor) and found.graph is not None
        identified = judge_passing_tests(identified, changes, found.graph, workspace.read, editor)
    obsolete = [t for t in identified if t.status in OBSOLETE]
    if not obsolete:
        return TestUpdates(tuple(identified), (), None)
    index, rules = _history(repo_root, history_commits)

    def find_examples(wanted: Sequence[ProductionChange]) -> list[Experience]:
        found: dict[str, Experience] = {}
        for change in wanted:
            for experience, _ in index.search(change, k=examples):
                found.setdefault(f"{experience.commit}{experience.test_qualname}", experience)
        return list(found.values())[:examples]

    run_test, trace_test = sandbox_runners(sandbox, workspace.root)
    updater = TestUpdater(
        builder, workspace, editor, run_test, examples=find_examples, rules=rules,
        trace_test=trace_test, attempts=attempts,
    )  # fmt: skip
    outcomes = tuple(updater.update(t, _relevant(changes, t), _failure(t)) for t in obsolete)
    return TestUpdates(tuple(identified), outcomes, workspace.commit(COMMIT_MESSAGE))


def sandbox_runners(sandbox: Sandbox, root: Path) -> tuple[RunTest, TraceTest]:
    """How the updater runs one test (or module) in the sandbox over `root`, and traces
    the lines of some files it executes."""

    def run_test(node_id: str) -> tuple[bool, str]:
        run = sandbox.run_tests(root, [node_id], rerun_failures=False)
        passed = bool(run.tests) and all(t.outcome == "passed" for t in run.tests)
        return passed, run.output_tail

    def trace_test(node_id: str, files: Sequence[str]) -> Mapping[str, frozenset[int]] | None:
        return sandbox.run_tests(root, [node_id], rerun_failures=False, trace=files).executed

    return run_test, trace_test


def choose_sandbox(oracle: Oracle | None, root: Path, backend: str | None) -> SandboxFactory:
    """The validating sandbox when there is one (its environment is already built), else
    the `backend` one, or the configured one (falling back to the local backend, with the
    warning in the sandbox's notes: the phase journals them for the user to see)."""
    if isinstance(oracle, SandboxOracle):
        return lambda: oracle.sandbox
    return lambda: open_sandbox(root, read_config(root), os.environ, backend=backend)


def update_tests_after_run(
    workspace: Workspace,
    builder: GraphBuilder,
    editor: Editor,
    sandbox: SandboxFactory,
    journal: Journal,
    plan: PlanGraph,
    progress: Progress,
    budget: Budget | None = None,
    *,
    judge: bool = False,
) -> Progress:
    """A done run's post-phase: its production edits (base to tip) may have made tests
    obsolete; each is updated, recorded in the plan, and committed in the worktree.  A
    test left broken makes the run unresolved; a failing sandbox or editor stops it.
    With `judge`, an editor that can triage first says which passing tests are stale."""
    journal.event("updating-tests")
    meter_kind = _TriagingMeter if isinstance(editor, TriagingEditor) else _Meter
    meter = meter_kind(editor, budget or Budget(), progress)
    try:
        chosen = sandbox()
        for note in chosen.notes:
            journal.event("sandbox-warning", note=note)
        updates = update_obsolete_tests(
            workspace, builder, meter, chosen, workspace.base_sha,
            repo_root=workspace.user_root, judge=judge,
        )  # fmt: skip
    except (SandboxError, EditError, BudgetSpent) as error:
        workspace.reset_uncommitted()
        done = _settle(progress, meter, "stopped", f"updating the obsolete tests: {error}")
        return _finish(journal, plan, done)
    except KeyboardInterrupt:
        _finish(journal, plan, _settle(progress, meter, "interrupted", "interrupted by the user"))
        raise
    journal.event("tests-impacted", tests={t.node_id: t.status.value for t in updates.identified})
    _record_updates(plan, updates, journal)
    left = updates.left_obsolete
    if not left:
        return _finish(journal, plan, replace(progress, usage=progress.usage + meter.spent()))
    reason = f"{len(left)} obsolete tests could not be updated"
    unresolved = _settle(progress, meter, "unresolved", reason)
    remaining = tuple(f"{o.test.node_id}: {o.status}: {_why(o)}" for o in left)
    return _finish(journal, plan, replace(unresolved, remaining=remaining))


def _record_updates(plan: PlanGraph, updates: TestUpdates, journal: Journal) -> None:
    """Each update as an obligation of kind "test-update", below everything the run did;
    an updated test's obligation has its edit."""
    depth = max((o.depth for o in plan.obligations.values()), default=-1) + 1
    statuses = {
        "updated": ObligationStatus.EDITED,
        "deleted": ObligationStatus.EDITED,
        "unchanged": ObligationStatus.NO_CHANGE,
    }
    for outcome in updates.outcomes:
        test = outcome.test
        reason = f"the production edits left this test {test.status.value}: {_failure(test)}"
        obligation = plan.add(
            f"{test.path}::{test.qualname}", INSTRUCTION, Cause(CAUSE_KIND, reason), depth=depth
        )
        status = statuses.get(outcome.status, ObligationStatus.REJECTED)
        note = "" if status is ObligationStatus.EDITED else _why(outcome)
        if status is ObligationStatus.EDITED:
            plan.record_edit(
                Edit(
                    id=plan.next_edit_id(), obligation_id=obligation.id, path=test.path,
                    qualname=test.qualname, before=outcome.before, after=outcome.after,
                    labels=(), impacted=(), commit=updates.commit,
                )
            )  # fmt: skip
        plan.obligations[obligation.id] = replace(
            obligation, status=status, note=note, attempts=outcome.attempts
        )
        journal.event(
            CAUSE_KIND, block=obligation.block_id, status=outcome.status,
            attempts=outcome.attempts, feedback=list(outcome.feedback), commit=updates.commit,
        )  # fmt: skip


class _Meter:
    """The editor, with what the phase spends counted (the run's usage includes it)."""

    def __init__(self, editor: Editor, budget: Budget, before: Progress) -> None:
        self.editor, self.calls = editor, 0
        self.budget, self.before = budget, before
        self.start = editor.usage if isinstance(editor, MeteredEditor) else None

    def __call__(self, request: EditRequest) -> str | None:
        self._charge()
        return self.editor(request)

    def _charge(self) -> None:
        # the run's budgets hold here too: the phase spends from what the loop left
        spent = self.budget.exceeded(self.before.usage + self.spent(), self.before.seconds)
        if spent is not None:
            raise BudgetSpent(spent)
        self.calls += 1

    def spent(self) -> Usage:
        if self.start is None or not isinstance(self.editor, MeteredEditor):
            return Usage(calls=self.calls)
        now, start = self.editor.usage, self.start
        return Usage(*(getattr(now, f.name) - getattr(start, f.name) for f in fields(Usage)))


class _TriagingMeter(_Meter):
    """`_Meter` for an editor that can triage, so the judge's calls are counted too."""

    def triage(self, request: TriageRequest) -> frozenset[str]:
        assert isinstance(self.editor, TriagingEditor)
        self._charge()
        return self.editor.triage(request)


def _settle(progress: Progress, meter: _Meter, status: str, reason: str) -> Progress:
    # `resume` validates again instead of concluding that nothing changed since the last
    # validation; the post-phase then runs again once the loop is done
    return replace(
        progress,
        status=status,
        reason=reason,
        usage=progress.usage + meter.spent(),
        edits_validated=0,
    )


def _finish(journal: Journal, plan: PlanGraph, progress: Progress) -> Progress:
    journal.event("finish", status=progress.status, reason=progress.reason)
    journal.checkpoint(plan, progress)
    return progress


def _failure(test: ImpactedTest) -> str:
    return next((e.detail for e in test.reasons if e.kind == "run"), "")


def _why(outcome: UpdateOutcome) -> str:
    """The last feedback an update got, or why there was none."""
    if outcome.feedback:
        return outcome.feedback[-1][:500]
    return "the editor answered NO CHANGE" if outcome.status == "unchanged" else ""


def _relevant(changes: Sequence[ProductionChange], test: ImpactedTest) -> list[ProductionChange]:
    """The production changes this test's evidence names, or all when none is named."""
    named = [
        c for c in changes if any(c.qualname.rsplit(".", 1)[-1] in e.detail for e in test.reasons)
    ]
    return named or list(changes)


def _history(root: Path, history_commits: int) -> tuple[ExperienceIndex, list[Rule]]:
    """The experience bank (brought up to date) as a search index, and the rules it
    supports."""
    bank = ExperienceBank(root)
    try:
        bank.build(max_commits=history_commits)  # incremental: new commits only
        experiences = bank.experiences()
        return ExperienceIndex.build(experiences), learn_rules(experiences)
    finally:
        bank.close()
