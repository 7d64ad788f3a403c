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
import subprocess
import sys
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path
from time import perf_counter
from types import ModuleType

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
    from ._replay_case import (
        GIT,
        ReplayCase,
        _git,
        _progress_line,
        _remove_runs,
        planner_obligations,
        summarise,
        timed,
    )
    from ._replay_synthetic import synthetic_overhead
    from .impact_history import (
        HistoryCase,
        changed_python_sources,
        commit_changes,
        counted_ids,
        find_cases,
        linked_blocks,
    )
else:  # run as a script: benchmarks/ is on sys.path
    from _replay_case import (
        GIT,
        ReplayCase,
        _git,
        _progress_line,
        _remove_runs,
        planner_obligations,
        summarise,
        timed,
    )
    from _replay_synthetic import synthetic_overhead
    from impact_history import (
        HistoryCase,
        changed_python_sources,
        commit_changes,
        counted_ids,
        find_cases,
        linked_blocks,
    )

BASELINE_KINDS = {BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.CLASS}


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


def _release_graphs() -> None:
    """Free the graphs of the finished case: without this, every case leaked its graphs'
    frozen cycles (about 25 MB a case on click, 4 GB over 172 cases)."""
    release_frozen()


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
