"""The case record of benchmarks/replay_commits.py and its summary, and the helpers the replay
and its synthetic case share: timing the runner's steps, git, removing the finished runs."""

from __future__ import annotations

import shutil
import statistics
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from types import ModuleType
from typing import Any

from codeplan.deliver.workspace import Workspace
from codeplan.plan.model import PlanGraph

GIT = ["git", "-c", "safe.directory=*"]


@dataclass
class ReplayCase:
    commit: str
    seed: str
    labels: list[str] = field(default_factory=list)  # the seed change's impact labels
    status: str = ""  # the run's status, or "error"
    error: str = ""
    truth: int = 0
    linked: int = 0
    matched: int = 0
    missed_linked: int = 0
    deleted_asked: int = 0  # linked blocks the commit deleted: asked about, not editable
    caused: int = 0  # linked blocks whose edit touches a line naming the seed
    missed_caused: int = 0
    missed: int = 0
    spurious: int = 0
    calls: int = 0  # triages included
    triage_calls: int = 0
    no_change_answers: int = 0
    obligations: int = 0  # the planner's own, the user's seed edits left out
    rejected: int = 0
    skipped: int = 0
    seconds: float = 0.0  # wall time of `propagate`
    editor_seconds: float = 0.0
    build_seconds: float = 0.0  # the graph build at the start of the run
    worktree_seconds: float = 0.0  # creating the run's worktree: a fixed cost per run
    baseline_calls: int = 0
    baseline_matched: int = 0
    missed_ids: list[str] = field(default_factory=list)
    spurious_ids: list[str] = field(default_factory=list)

    @property
    def planner_seconds(self) -> float:
        return self.seconds - self.editor_seconds

    @property
    def overhead_seconds(self) -> float:
        return self.planner_seconds - self.build_seconds

    @property
    def loop_seconds(self) -> float:
        return self.overhead_seconds - self.worktree_seconds


@contextmanager
def timed(owner: ModuleType | type, name: str) -> Iterator[list[float]]:
    """Time every call of `owner.name` (the seconds accumulate in the yielded list): the
    runner builds its graph and its worktree inside `propagate`, out of reach otherwise."""
    stored = vars(owner)[name]  # restored as found: a classmethod stays a classmethod
    original: Callable[..., Any] = getattr(owner, name)
    spent = [0.0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += perf_counter() - started

    setattr(owner, name, wrapper)
    try:
        yield spent
    finally:
        setattr(owner, name, stored)


def planner_obligations(plan: PlanGraph) -> int:
    return sum(1 for o in plan.obligations.values() if not all(c.kind == "seed" for c in o.causes))


def _remove_runs(clone: Path) -> None:
    """Every run's worktree, branch and record, so the clone stays small and clean."""
    state = clone / ".codeplan"
    for meta in sorted((state / "worktrees").glob("*.json")):
        Workspace.open(clone, meta.stem).remove(delete_branch=True)
    shutil.rmtree(state / "runs", ignore_errors=True)


def _git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True)


def _progress_line(case: ReplayCase) -> str:
    if case.status == "error":
        return f"{case.commit} {case.seed}: {case.error}"
    return (
        f"{case.commit} {case.seed}: {case.status}, matched {case.matched}/{case.truth}, "
        f"missed linked {case.missed_linked}/{case.linked}, calls {case.calls} "
        f"(baseline {case.baseline_calls}), {case.obligations} obligations, "
        f"{case.seconds:.2f} s"
    )


# -- the summary ----------------------------------------------------------------------------


def _share(cases: list[ReplayCase], holds: Callable[[ReplayCase], bool]) -> float:
    """The share of `cases` for which `holds` (1.0 of none)."""
    return sum(holds(c) for c in cases) / len(cases) if cases else 1.0


def summarise(cases: list[ReplayCase]) -> dict[str, Any]:
    ran = [c for c in cases if c.status != "error"]
    with_linked = [c for c in ran if c.linked]
    with_caused = [c for c in ran if c.caused]
    matched = sum(c.matched for c in ran)
    calls = sum(c.calls for c in ran)
    baseline_matched = sum(c.baseline_matched for c in ran)
    baseline_calls = sum(c.baseline_calls for c in ran)
    busy = [c for c in ran if c.obligations]
    per_obligation = [c.overhead_seconds / c.obligations * 1000 for c in busy]
    with_build = [c.planner_seconds / c.obligations * 1000 for c in busy]
    loop = [c.loop_seconds / c.obligations * 1000 for c in busy]
    statuses: dict[str, int] = {}
    for case in cases:
        statuses[case.status] = statuses.get(case.status, 0) + 1
    return {
        "cases": len(cases),
        "statuses": statuses,
        "cases_with_linked_blocks": len(with_linked),
        "cases_missing_nothing_linked": _share(with_linked, lambda c: c.missed_linked == 0),
        "truth": sum(c.truth for c in ran),
        "linked": sum(c.linked for c in ran),
        "matched": matched,
        "missed_linked": sum(c.missed_linked for c in ran),
        "linked_deleted_and_asked": sum(c.deleted_asked for c in ran),
        "cases_with_caused_blocks": len(with_caused),
        "cases_missing_nothing_caused": _share(with_caused, lambda c: c.missed_caused == 0),
        "caused": sum(c.caused for c in ran),
        "missed_caused": sum(c.missed_caused for c in ran),
        "missed": sum(c.missed for c in ran),
        "spurious": sum(c.spurious for c in ran),
        "rejected": sum(c.rejected for c in ran),
        "skipped": sum(c.skipped for c in ran),
        "editor_calls": calls,
        "triage_calls": sum(c.triage_calls for c in ran),
        "no_change_answers": sum(c.no_change_answers for c in ran),
        "calls_per_matched": calls / matched if matched else float("inf"),
        "baseline_calls": baseline_calls,
        "baseline_matched": baseline_matched,
        "baseline_calls_per_matched": (
            baseline_calls / baseline_matched if baseline_matched else float("inf")
        ),
        "obligations": sum(c.obligations for c in ran),
        "overhead_ms_per_obligation_median": _quantile(per_obligation, 0.5),
        "overhead_ms_per_obligation_p90": _quantile(per_obligation, 0.9),
        "with_build_ms_per_obligation_median": _quantile(with_build, 0.5),
        "with_build_ms_per_obligation_p90": _quantile(with_build, 0.9),
        "loop_ms_per_obligation_median": _quantile(loop, 0.5),
        "loop_ms_per_obligation_p90": _quantile(loop, 0.9),
        # what one more obligation costs, the fixed cost of a run aside (Theil-Sen slope)
        "marginal_ms_per_obligation": _slope(
            [(c.obligations, c.overhead_seconds * 1000) for c in ran]
        ),
        "worktree_seconds_median": _quantile([c.worktree_seconds for c in ran], 0.5),
        "build_seconds_median": _quantile([c.build_seconds for c in ran], 0.5),
        "run_seconds_median": _quantile([c.seconds for c in ran], 0.5),
    }


def _slope(points: list[tuple[int, float]]) -> float:
    """The median of the slopes between pairs of points: robust to a few slow runs."""
    slopes = [
        (y2 - y1) / (x2 - x1)
        for i, (x1, y1) in enumerate(points)
        for x2, y2 in points[i + 1 :]
        if x2 != x1
    ]
    return statistics.median(slopes) if slopes else float("nan")


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    if q == 0.5:
        return statistics.median(values)
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
