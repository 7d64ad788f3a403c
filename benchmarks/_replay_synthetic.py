"""The synthetic case of benchmarks/replay_commits.py (`--synthetic`), for a repository
without history: a committed copy of the tree gets a required first parameter added to a
much-called function, and the planner propagates it with an editor that always answers
"no change", to measure the planner's overhead alone."""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path
from time import perf_counter
from typing import Any

import codeplan.runner
from codeplan import Planner, Repository
from codeplan.deliver.workspace import Workspace
from codeplan.edit.model import EditRequest, TriageRequest
from codeplan.graph import Block, BlockKind, CodeGraph, GraphOptions, build_graph

if __package__:
    from ._replay_case import _git, _remove_runs, planner_obligations, timed
else:  # run as a script: benchmarks/ is on sys.path
    from _replay_case import _git, _remove_runs, planner_obligations, timed


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
