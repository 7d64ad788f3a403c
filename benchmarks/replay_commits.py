"""The planner against real history: does `propagate` edit what developers edited next?

For each case of benchmarks/impact_history.py (a commit that changes one block's signature,
or turns it into another kind, together with other blocks), the seed block's new text is
written, uncommitted, into the parent commit's file, and `Planner.propagate` runs with an
oracle editor that answers each request with that block's text in the commit, or "no
change" when the commit left the block alone.  As in the CodePlan paper, the blocks the run
edited are compared with the other blocks the commit changed (the truth):

- matched: edited and in the truth; missed linked: truth blocks related to the seed in the
  parent's graph (callers, importers, overriders…) that were not edited (a block the
  commit deleted counts when the run asked about it: an oracle answers with text and
  cannot delete; reported as linked_deleted_and_asked); missed: all truth blocks not
  edited; spurious: edited, not in the truth (0 with an oracle editor);
- editor calls per matched block, beside a baseline that sends every function, method or
  class whose own text (its nested blocks cut out) mentions the seed's name to the editor;
- planner overhead: the run's wall time minus the editor's, per obligation, with and
  without the graph build at the start of the run.
- caused: the linked blocks whose edit touches a line naming the seed.  A sweeping commit
  (annotate everything) edits callers for its own reasons; those edits are linked but not
  caused, and a planner that leaves them alone is right to.  Reported beside, not instead.

Targets: no linked block missed in >= 90% of the cases with linked blocks; <= 2 editor
calls per matched block; overhead <= 50 ms per obligation on a large repository.

    python benchmarks/replay_commits.py REPO_PATH [--max-commits N] [--max-cases N] [--json]
    python benchmarks/replay_commits.py REPO_PATH --synthetic [BLOCK_ID] [--repeat N]

`--synthetic` is for a repository without history: it commits a copy of the tree, adds a
required first parameter to a much-called function (BLOCK_ID, or the module-level function
with the most callers up to --max-callers), and propagates with an editor that always
answers "no change", to measure the overhead alone.

The repository is cloned (copied, for --synthetic) into a temporary folder; nothing is
written to REPO_PATH.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from time import perf_counter
from types import ModuleType
from typing import Any

import git

import codeplan.runner
from codeplan import Budget, Planner, Repository
from codeplan.deliver.workspace import Workspace
from codeplan.edit.apply import block_text
from codeplan.edit.model import EditRequest, TriageRequest
from codeplan.graph import Block, BlockKind, CodeGraph, GraphOptions, build_graph
from codeplan.graph.gcpause import release_frozen
from codeplan.impact.classify import classify
from codeplan.impact.diff import BlockChange
from codeplan.plan.model import ObligationStatus, PlanGraph

if __package__:
    from .impact_history import (
        HistoryCase,
        changed_python_sources,
        commit_changes,
        counted_ids,
        find_cases,
        linked_blocks,
    )
else:  # run as a script: benchmarks/ is on sys.path
    from impact_history import (
        HistoryCase,
        changed_python_sources,
        commit_changes,
        counted_ids,
        find_cases,
        linked_blocks,
    )

BASELINE_KINDS = {BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.CLASS}
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


def caused_blocks(
    seed: Block,
    changes: list[BlockChange],
    sources: tuple[dict[str, bytes], dict[str, bytes]],
    linked: set[str],
) -> set[str]:
    """The linked blocks whose edit in the commit touches a line that names the seed (or,
    for a constructor, its class): edits the seed's change plausibly caused, as opposed to
    edits a sweeping commit (annotate everything, reformat) made to them anyway."""
    old_sources, new_sources = sources
    parts = seed.qualname.split(".")
    name = parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]
    mentions = re.compile(rf"\b{re.escape(name)}\b")
    caused: set[str] = set()
    for change in changes:
        if change.old is None or change.old.id not in linked:
            continue
        if change.new is None:  # deleted: nothing to compare, count it as caused
            caused.add(change.old.id)
            continue
        before = block_text(old_sources[change.old.path], change.old).splitlines()
        after = block_text(new_sources[change.new.path], change.new).splitlines()
        touched = [
            line
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after).get_opcodes()
            if tag != "equal"
            for line in before[i1:i2] + after[j1:j2]
        ]
        if any(mentions.search(line) for line in touched):
            caused.add(change.old.id)
    return caused


class CommitOracle:
    """An editor that knows the answer: each block's text in the commit (from the start of
    its first line, like `EditRequest.source`), None where the commit left it alone."""

    def __init__(self, history: HistoryCase) -> None:
        self.answers: dict[str, str] = {}
        for change in history.changes:
            old, new = change.old, change.new
            if old is None or new is None or new.kind is BlockKind.MODULE:
                # a deletion has no text to answer with; a module's text is the whole file,
                # which would carry every change of the commit at once
                continue
            text = block_text(history.new_sources[new.path], new)
            self.answers.setdefault(old.id, text)
            # an answer that renamed the block is asked about again under its new name
            self.answers.setdefault(new.id, text)
        # an answer cannot delete, but a triage that knows the commit keeps what it deleted
        self.deleted = {c.old.id for c in history.changes if c.old is not None and c.new is None}
        self.asked: set[str] = set()
        self.calls = 0
        self.triage_calls = 0
        self.no_change = 0
        self.seconds = 0.0

    def triage(self, request: TriageRequest) -> frozenset[str]:
        """A triage that knows the answer: the candidates the commit changed or deleted."""
        started = perf_counter()
        self.calls += 1
        self.triage_calls += 1
        kept = frozenset(
            c.block_id
            for c in request.candidates
            if c.block_id in self.deleted or self.answers.get(c.block_id, c.source) != c.source
        )
        self.seconds += perf_counter() - started
        return kept

    def __call__(self, request: EditRequest) -> str | None:
        started = perf_counter()
        self.calls += 1
        self.asked.add(request.block_id)
        answer = self.answers.get(request.block_id)
        if answer is None or answer == request.source:
            self.no_change += 1
        self.seconds += perf_counter() - started
        return answer


class NoChangeEditor:
    """Answers every request with "no change" (the synthetic case measures the planner);
    its triage keeps every block, so each is still prepared and asked about: the most
    work the planner can have per obligation."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0

    def triage(self, request: TriageRequest) -> frozenset[str]:
        self.calls += 1
        return frozenset(c.block_id for c in request.candidates)

    def __call__(self, request: EditRequest) -> str | None:
        started = perf_counter()
        self.calls += 1
        self.seconds += perf_counter() - started
        return None


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


# -- the replay -----------------------------------------------------------------------------


def run_replay(
    repo_path: Path,
    max_commits: int,
    max_cases: int | None = None,
    max_calls: int = 300,
    triage: bool = True,
) -> list[ReplayCase]:
    cases: list[ReplayCase] = []
    with tempfile.TemporaryDirectory(prefix="codeplan-replay-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run([*GIT, "clone", "-q", str(repo_path), str(clone)], check=True)
        _git(clone, "config", "user.name", "Replay")
        _git(clone, "config", "user.email", "replay@example.com")
        for history in find_cases(repo_path, max_commits):
            if max_cases is not None and len(cases) >= max_cases:
                break
            try:
                case = replay(clone, history, max_calls, triage)
            except Exception as error:
                case = _failed(history, error)
            finally:
                _remove_runs(clone)
                _release_graphs()
            if case is not None:
                cases.append(case)
                print(_progress_line(case), file=sys.stderr, flush=True)
    return cases


def replay(
    clone: Path, history: HistoryCase, max_calls: int, triage: bool = True
) -> ReplayCase | None:
    """One case, in `clone` checked out at the commit's parent; None when the seed lies
    outside what the graph analyses.  Without `triage` the oracle is offered as a plain
    callable, which the planner cannot ask for a triage."""
    seed = history.seed
    assert seed.old is not None
    _git(clone, "checkout", "-q", "-f", "--detach", history.parent.hexsha)
    _git(clone, "clean", "-q", "-fdx", "-e", ".codeplan")
    # the runner's own options: the graph cache in <clone>/.codeplan is shared with its runs
    parent = build_graph(clone, GraphOptions(cache_dir=clone / ".codeplan")).graph
    if parent.get(seed.old.id) is None:
        return None
    truth = history.truth
    linked = truth & linked_blocks(parent, seed.old.id)
    sources = (history.old_sources, history.new_sources)
    caused = caused_blocks(seed.old, history.changes, sources, linked)
    baseline = baseline_blocks(parent, clone, seed.old)
    if history.seeded == history.old_sources[history.path]:
        return None  # the seed only moved in or out of a block: nothing to propagate
    (clone / history.path).write_bytes(history.seeded)
    oracle = CommitOracle(history)
    editor = oracle if triage else oracle.__call__
    planner = Planner(
        Repository(clone), editor=editor, validate=False, budget=Budget(max_calls=max_calls)
    )
    with timed(codeplan.runner, "build_graph") as build, timed(Workspace, "create") as setup:
        started = perf_counter()
        result = planner.propagate(f"Replay of {history.commit.hexsha[:10]}")
        seconds = perf_counter() - started
    edited = run_edits(clone, result.run_id, history.parent.hexsha)
    # an oracle answers with text, so it cannot delete: a block the commit deleted counts
    # as reached when the run asked about it
    deleted = {c.old.id for c in history.changes if c.old is not None and c.new is None}
    reached = edited | (oracle.asked & deleted)
    return ReplayCase(
        commit=history.commit.hexsha[:10],
        seed=seed.old.id,
        labels=[label.value for label in classify(seed)],
        status=result.status,
        truth=len(truth),
        linked=len(linked),
        matched=len(edited & truth),
        missed_linked=len(linked - reached),
        deleted_asked=len(linked & deleted & oracle.asked),
        caused=len(caused),
        missed_caused=len(caused - reached),
        missed=len(truth - edited),
        spurious=len(edited - truth),
        calls=oracle.calls,
        triage_calls=oracle.triage_calls,
        no_change_answers=oracle.no_change,
        obligations=planner_obligations(result.plan),
        rejected=_count(result.plan, ObligationStatus.REJECTED),
        skipped=_count(result.plan, ObligationStatus.SKIPPED),
        seconds=seconds,
        editor_seconds=oracle.seconds,
        build_seconds=build[0],
        worktree_seconds=setup[0],
        baseline_calls=len(baseline),
        baseline_matched=len(baseline & truth),
        missed_ids=sorted(linked - reached),
        spurious_ids=sorted(edited - truth),
    )


def run_edits(clone: Path, run_id: str, parent: str) -> set[str]:
    """The blocks the run changed, from its own commits (not the user's seed commit), so a
    block changed by an answer for its enclosing class counts too; left out are blocks it
    only gave back their text in `parent` (the seed removed them, an answer restored them)."""
    workspace = Workspace.open(clone, run_id)
    repo = git.Repo(clone)
    tip = repo.commit(f"refs/heads/{workspace.branch}")
    by_run, net = (
        changed_python_sources(repo.commit(start), tip, max_files=None)
        for start in (workspace.start_sha, parent)
    )
    if by_run is None or net is None:
        return set()
    return counted_ids(commit_changes(*by_run)) & counted_ids(commit_changes(*net))


def planner_obligations(plan: PlanGraph) -> int:
    return sum(1 for o in plan.obligations.values() if not all(c.kind == "seed" for c in o.causes))


def baseline_blocks(graph: CodeGraph, root: Path, seed: Block) -> set[str]:
    """The innermost functions, methods and classes whose text mentions the seed's name as
    a word: what a search for the changed name would send to an editor."""
    name = seed.name.split("#", 1)[0]  # "f#2": the second definition of f in its scope
    word = re.compile(rb"\b" + re.escape(name.encode()) + rb"\b")
    by_path: dict[str, list[Block]] = {}
    for block in graph.blocks():
        if block.kind in BASELINE_KINDS and block.language == "python" and block.id != seed.id:
            by_path.setdefault(block.path, []).append(block)
    found: set[str] = set()
    for path, blocks in by_path.items():
        data = (root / path).read_bytes()
        for match in word.finditer(data):
            around = [b for b in blocks if b.start_byte <= match.start() < b.end_byte]
            if around:  # the innermost: a class is not sent for its methods' mentions
                found.add(min(around, key=lambda b: b.end_byte - b.start_byte).id)
    return found


def _count(plan: PlanGraph, status: ObligationStatus) -> int:
    return sum(1 for o in plan.obligations.values() if o.status is status)


def _failed(history: HistoryCase, error: Exception) -> ReplayCase:
    """A case that raised: counted and reported with where it failed, not fatal."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    where = f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
    return ReplayCase(
        commit=history.commit.hexsha[:10],
        seed=history.seed.block.id,
        status="error",
        error=f"{type(error).__name__}: {error} ({where})",
    )


def _remove_runs(clone: Path) -> None:
    """Every run's worktree, branch and record, so the clone stays small and clean."""
    state = clone / ".codeplan"
    for meta in sorted((state / "worktrees").glob("*.json")):
        Workspace.open(clone, meta.stem).remove(delete_branch=True)
    shutil.rmtree(state / "runs", ignore_errors=True)


def _release_graphs() -> None:
    """Free the graphs of the finished case: without this, every case leaked its graphs'
    frozen cycles (about 25 MB a case on click, 4 GB over 172 cases)."""
    release_frozen()


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


# -- the synthetic case (a repository without history) --------------------------------------


def synthetic_overhead(
    repo_path: Path, block_id: str | None, repeats: int, max_callers: int, triage: bool = True
) -> dict[str, Any]:
    """Commit a copy of the tree, add a required first parameter to a much-called
    function, and propagate it `repeats` times with an editor that changes nothing."""
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="codeplan-synthetic-") as scratch:
        root = Path(scratch) / "copy"
        shutil.copytree(
            repo_path, root, ignore=shutil.ignore_patterns(".git", ".codeplan", ".aider*")
        )
        _git(root, "init", "-q")
        _git(root, "config", "user.name", "Replay")
        _git(root, "config", "user.email", "replay@example.com")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "--no-verify", "-m", "snapshot")
        graph = build_graph(root, GraphOptions(cache_dir=root / ".codeplan")).graph
        target = graph.block(block_id) if block_id else most_called(graph, max_callers)
        original = (root / target.path).read_bytes()
        for _ in range(repeats):
            (root / target.path).write_bytes(add_first_parameter(original, target))
            editor = NoChangeEditor()
            planner = Planner(
                Repository(root), editor=editor if triage else editor.__call__, validate=False
            )
            with (
                timed(codeplan.runner, "build_graph") as build,
                timed(Workspace, "create") as setup,
            ):
                started = perf_counter()
                result = planner.propagate("Synthetic signature change")
                seconds = perf_counter() - started
            obligations = max(planner_obligations(result.plan), 1)
            _remove_runs(root)
            _git(root, "checkout", "-q", "-f", "HEAD")
            overhead = seconds - editor.seconds - build[0]
            runs.append(
                {
                    "seconds": seconds,
                    "build_seconds": build[0],
                    "worktree_seconds": setup[0],
                    "editor_seconds": editor.seconds,
                    "calls": editor.calls,
                    "obligations": obligations,
                    "overhead_ms_per_obligation": overhead / obligations * 1000,
                    # the loop alone: without the worktree's checkout, a fixed cost per run
                    "loop_ms_per_obligation": (overhead - setup[0]) / obligations * 1000,
                }
            )
        files = len(graph.paths())
    return {
        "block": target.id,
        "callers": len(graph.callers(target.id)),
        "files": files,
        "blocks": len(graph),
        "runs": runs,
        "overhead_ms_per_obligation_median": statistics.median(
            r["overhead_ms_per_obligation"] for r in runs
        ),
        "loop_ms_per_obligation_median": statistics.median(
            r["loop_ms_per_obligation"] for r in runs
        ),
        "worktree_seconds_median": statistics.median(r["worktree_seconds"] for r in runs),
        "build_seconds_median": statistics.median(r["build_seconds"] for r in runs),
        "seconds_median": statistics.median(r["seconds"] for r in runs),
    }


def most_called(graph: CodeGraph, max_callers: int) -> Block:
    """The module-level Python function with the most callers, up to `max_callers`."""
    candidates = [
        (len(graph.callers(b.id)), b.id, b)
        for b in graph.blocks(BlockKind.FUNCTION)
        if b.language == "python" and b.parent == b.path
    ]
    return max(c for c in candidates if c[0] <= max_callers)[2]


def add_first_parameter(file: bytes, function: Block) -> bytes:
    """The file with `replay_extra` as the function's first parameter (callers break)."""
    opening = file.index(b"(", file.index(b"def ", function.start_byte)) + 1
    rest = file[opening:].lstrip()
    separator = b"" if rest.startswith(b")") else b", "
    return file[:opening] + b"replay_extra" + separator + file[opening:]


# -- the command line -----------------------------------------------------------------------


def screening(runner: ModuleType) -> None:
    """Turn call-site screening on for every run, whatever the clone's configuration."""
    settings = runner.impact_settings
    runner.impact_settings = lambda config: (settings(config)[0], True)  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--max-commits", type=int, default=300)
    parser.add_argument("--max-cases", type=int, default=None)
    parser.add_argument("--max-calls", type=int, default=300, help="editor calls per run")
    parser.add_argument("--json", action="store_true", help="print the cases as JSON too")
    parser.add_argument(
        "--synthetic", nargs="?", const="", default=None, metavar="BLOCK_ID",
        help="measure the overhead on a synthetic signature change instead",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="runs of the synthetic case")
    parser.add_argument("--max-callers", type=int, default=300)
    parser.add_argument(
        "--screen-calls", action="store_true",
        help="as with `[impact] screen_calls = true`: skip callers whose calls still bind",
    )  # fmt: skip
    parser.add_argument(
        "--no-triage", action="store_true",
        help="as with `[plan] triage = false`: ask about every impacted block one by one",
    )  # fmt: skip
    args = parser.parse_args()
    if args.screen_calls:
        screening(codeplan.runner)
    if args.synthetic is not None:
        report = synthetic_overhead(
            args.repo, args.synthetic or None, args.repeat, args.max_callers, not args.no_triage
        )
        print(json.dumps(report, indent=1))
        return 0
    cases = run_replay(
        args.repo, args.max_commits, args.max_cases, args.max_calls, not args.no_triage
    )
    summary = summarise(cases)
    print(f"{args.repo} (last {args.max_commits} commits)")
    for key, value in summary.items():
        print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
    for case in cases:
        if case.status == "error":
            print(f"  error {case.commit} {case.seed}: {case.error}")
    if args.json:
        rows = [
            {
                **asdict(c),
                "planner_seconds": c.planner_seconds,
                "overhead_seconds": c.overhead_seconds,
                "loop_seconds": c.loop_seconds,
            }
            for c in cases
        ]
        json.dump({"summary": summary, "cases": rows}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
