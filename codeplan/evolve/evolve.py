"""`codeplan tests evolve`: the tests a production change makes obsolete, updated.

Identify (statically, then by running them in the sandbox), then update each broken or
stale test on a branch in its own worktree (like a planner run), with worked examples
retrieved from the repository's own history, the weakened-test guard, and the sandbox
run of that test as the oracle.  The user's tree changes only with `apply`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from codeplan.deliver.workspace import Workspace, slugify, working_tree_changes
from codeplan.edit.model import Editor
from codeplan.evolve.changes import production_changes
from codeplan.evolve.experiences import ExperienceBank
from codeplan.evolve.identify import identify_impacted_tests, run_impacted
from codeplan.evolve.model import Experience, ImpactedTest, ProductionChange, TestStatus
from codeplan.evolve.retrieve import ExperienceIndex
from codeplan.evolve.update import TestUpdater, UpdateOutcome
from codeplan.graph import GraphOptions, build_graph
from codeplan.plan.store import RunStore
from codeplan.runner import free_branch
from codeplan.sandbox.session import Sandbox

OBSOLETE = (TestStatus.BROKEN, TestStatus.STALE)


@dataclass(frozen=True)
class EvolveResult:
    run_id: str | None
    branch: str | None
    identified: tuple[ImpactedTest, ...]
    outcomes: tuple[UpdateOutcome, ...]
    diff: str
    applied: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "branch": self.branch,
            "identified": [
                {"path": t.path, "qualname": t.qualname, "status": t.status.value}
                for t in self.identified
            ],
            "updates": [
                {
                    "path": o.test.path,
                    "qualname": o.test.qualname,
                    "status": o.status,
                    "attempts": o.attempts,
                    "feedback": list(o.feedback),
                    "diff": o.diff,
                }
                for o in self.outcomes
            ],
            "applied": list(self.applied),
            "diff": self.diff,
        }

    def __rich__(self) -> RenderableType:
        table = Table("test", "found", "update", "attempts")
        by_id = {o.test.node_id: o for o in self.outcomes}
        for test in self.identified:
            outcome = by_id.get(test.node_id)
            table.add_row(
                test.node_id,
                test.status.value,
                outcome.status if outcome else "-",
                str(outcome.attempts) if outcome else "",
            )
        updated = sum(o.status == "updated" for o in self.outcomes)
        lines: list[RenderableType] = [
            table,
            Text(f"{updated} of {len(self.outcomes)} obsolete tests updated"),
        ]
        for outcome in self.outcomes:
            if outcome.status in ("rejected", "failed") and outcome.feedback:
                lines.append(Text(f"{outcome.test.node_id}: {outcome.feedback[-1][:200]}", "red"))
        if self.applied:
            lines.append(Text(f"applied to your working tree: {', '.join(self.applied)}"))
        elif self.branch and updated:
            lines.append(Text(f"on branch {self.branch}; --apply brings it into your tree"))
        return Group(*lines)


def evolve_tests(
    root: Path,
    sandbox: Sandbox,
    editor: Editor,
    *,
    base: str = "HEAD",
    attempts: int = 3,
    examples: int = 3,
    history_commits: int = 500,
    apply: bool = False,
) -> EvolveResult:
    root = root.resolve()
    identified = run_impacted(identify_impacted_tests(root, base, None), sandbox, root)
    obsolete = [t for t in identified if t.status in OBSOLETE]
    if not obsolete:
        return EvolveResult(None, None, tuple(identified), (), "")
    changes = production_changes(root, base)
    store = RunStore(root)
    run_id = store.new_id("evolve-tests")
    branch = free_branch(root, f"codeplan/evolve-tests-{slugify(time.strftime('%H%M%S'))}")
    workspace = Workspace.create(
        root, run_id, branch, base=base, carry_changes=working_tree_changes(root)
    )
    builder = build_graph(workspace.root, GraphOptions(cache_dir=root / ".codeplan"))
    index = _index(root, history_commits)

    def find_examples(wanted: Sequence[ProductionChange]) -> list[Experience]:
        found: dict[str, Experience] = {}
        for change in wanted:
            for experience, _ in index.search(change, k=examples):
                found.setdefault(f"{experience.commit}{experience.test_qualname}", experience)
        return list(found.values())[:examples]

    def run_test(node_id: str) -> tuple[bool, str]:
        run = sandbox.run_tests(workspace.root, [node_id], rerun_failures=False)
        passed = bool(run.tests) and all(t.outcome == "passed" for t in run.tests)
        return passed, run.output_tail

    updater = TestUpdater(
        builder, workspace, editor, run_test, examples=find_examples, attempts=attempts
    )
    outcomes = []
    for test in obsolete:
        failure = next((e.detail for e in test.reasons if e.kind == "run"), "")
        outcomes.append(updater.update(test, _relevant(changes, test), failure))
    workspace.commit("codeplan: update the tests the production change made obsolete")
    applied = tuple(workspace.apply_to_user_tree()) if apply else ()
    return EvolveResult(
        run_id, branch, tuple(identified), tuple(outcomes), workspace.diff(), applied
    )


def _relevant(changes: Sequence[ProductionChange], test: ImpactedTest) -> list[ProductionChange]:
    """The production changes this test's evidence names, or all when none is named."""
    named = [
        c for c in changes if any(c.qualname.rsplit(".", 1)[-1] in e.detail for e in test.reasons)
    ]
    return named or list(changes)


def _index(root: Path, history_commits: int) -> ExperienceIndex:
    bank = ExperienceBank(root)
    try:
        bank.build(max_commits=history_commits)  # incremental: new commits only
        return ExperienceIndex.build(bank.experiences())
    finally:
        bank.close()
