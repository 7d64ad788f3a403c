"""`codeplan tests evolve`: the tests a production change makes obsolete, updated.

Identify (statically, then by running them in the sandbox), then update each broken or
stale test on a branch in its own worktree (like a planner run), with worked examples
retrieved from the repository's own history, the weakened-test guard, and the sandbox
run of that test as the oracle.  The user's tree changes only with `apply`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from codeplan.deliver.workspace import Workspace, slugify, working_tree_changes
from codeplan.edit.model import Editor
from codeplan.evolve.model import ImpactedTest
from codeplan.evolve.phase import update_obsolete_tests
from codeplan.evolve.update import UpdateOutcome
from codeplan.graph import GraphOptions, build_graph
from codeplan.impact.states import RepositoryStates
from codeplan.plan.store import RunStore
from codeplan.runner import free_branch
from codeplan.sandbox.session import Sandbox


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
        deleted = sum(o.status == "deleted" for o in self.outcomes)
        summary = f"{updated} of {len(self.outcomes)} obsolete tests updated"
        if deleted:
            summary += f", {deleted} deleted (what they checked was removed)"
        lines: list[RenderableType] = [table, Text(summary)]
        for outcome in self.outcomes:
            if outcome.status in ("rejected", "failed") and outcome.feedback:
                lines.append(Text(f"{outcome.test.node_id}: {outcome.feedback[-1][:200]}", "red"))
        if self.applied:
            lines.append(Text(f"applied to your working tree: {', '.join(self.applied)}"))
        elif self.branch and (updated or deleted):
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
    judge: bool = False,
) -> EvolveResult:
    root = root.resolve()
    base_commit = RepositoryStates(root).revision(base).commit
    assert base_commit is not None  # a named revision always has its commit
    store = RunStore(root)
    run_id = store.new_id("evolve-tests")
    branch = free_branch(root, f"codeplan/evolve-tests-{slugify(time.strftime('%H%M%S'))}")
    # from HEAD with the user's edits, so the worktree holds all of base..working tree
    workspace = Workspace.create(root, run_id, branch, carry_changes=working_tree_changes(root))
    try:
        builder = build_graph(workspace.root, GraphOptions(cache_dir=root / ".codeplan"))
        updates = update_obsolete_tests(
            workspace, builder, editor, sandbox, base_commit.hexsha, repo_root=root,
            attempts=attempts, examples=examples, history_commits=history_commits, judge=judge,
        )  # fmt: skip
    except BaseException:
        workspace.remove(delete_branch=True)  # nothing half-made left behind
        raise
    if not updates.outcomes:
        workspace.remove(delete_branch=True)  # no obsolete test: no branch to look at
        return EvolveResult(None, None, updates.identified, (), "")
    applied = tuple(workspace.apply_to_user_tree()) if apply else ()
    return EvolveResult(
        run_id, branch, updates.identified, updates.outcomes, workspace.diff(), applied
    )
