"""Impact analysis against real history: does it find what developers changed next?

For each commit of REPO_PATH (newest first, merges skipped) that changes the signature of a
function or method (labels MMS or MCC), or turns a block into another kind (an attribute
into a property) inside one file, together with other blocks, the signature change
alone is applied to the parent commit, `analyze_impact` runs, and its impacted blocks are
compared with the other blocks the commit really changed:

- linked: changed blocks related to the changed symbol in the parent's graph (callers,
  overriders, importers, …) — what impact analysis can be expected to find;
- all: every other changed function, method, class, field or import.

Reported: recall of linked and of all blocks (micro-averaged), the share of cases with no
linked block missed, and the number of blocks reported per true linked block.
Targets (issue 3): recall of linked ≥ 0.95 with ≤ 3 reported per true block.

    python benchmarks/impact_history.py REPO_PATH [--max-commits N] [--json]

The repository is cloned into a temporary folder; nothing is written to REPO_PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import git

from codeplan.graph import BlockKind, CodeGraph, GraphOptions, build_graph
from codeplan.graph.python import PythonAnalyzer
from codeplan.impact import BlockChange, ChangeLabel, analyze_impact, classify, diff_blocks
from codeplan.impact.callsites import file_reader

SIGNATURE_LABELS = {ChangeLabel.MMS, ChangeLabel.MCC}
COUNTED_KINDS = {
    BlockKind.FUNCTION,
    BlockKind.METHOD,
    BlockKind.CLASS,
    BlockKind.FIELD,
    BlockKind.IMPORT,
}
MAX_FILES_PER_COMMIT = 15
# as `[impact] screen_calls`: drop callers whose calls still bind the same way
SCREEN_CALLS = os.environ.get("CODEPLAN_SCREEN_CALLS") == "1"


@dataclass
class Case:
    commit: str
    seed: str
    labels: list[str]
    linked: int
    linked_found: int
    other: int
    other_found: int
    reported: int


def changed_python_sources(
    parent: git.Commit, commit: git.Commit, max_files: int | None = MAX_FILES_PER_COMMIT
) -> tuple[dict[str, bytes], dict[str, bytes]] | None:
    old, new = {}, {}
    diffs = [d for d in parent.diff(commit) if (d.b_path or d.a_path or "").endswith(".py")]
    if not diffs or (max_files is not None and len(diffs) > max_files):
        return None
    for item in diffs:
        if item.a_blob is not None and item.a_path:
            old[item.a_path] = item.a_blob.data_stream.read()
        if item.b_blob is not None and item.b_path:
            new[item.b_path] = item.b_blob.data_stream.read()
    return old, new


def commit_changes(old: dict[str, bytes], new: dict[str, bytes]) -> list[BlockChange]:
    analyzer = PythonAnalyzer()
    old_blocks = [b for p, t in old.items() for b in analyzer.extract(p, t).blocks]
    new_blocks = [b for p, t in new.items() for b in analyzer.extract(p, t).blocks]
    return diff_blocks(old_blocks, new_blocks, old, new)


@dataclass(frozen=True)
class HistoryCase:
    """One replayable change: a seed block whose change `commit` made, with everything else
    the commit changed in Python files (benchmarks/replay_commits.py replays these too)."""

    commit: git.Commit
    parent: git.Commit
    seed: BlockChange
    changes: list[BlockChange]
    old_sources: dict[str, bytes]
    new_sources: dict[str, bytes]

    @property
    def path(self) -> str:
        assert self.seed.old is not None
        return self.seed.old.path

    @property
    def seeded(self) -> bytes:
        """The seed's file in the parent commit with only the seed's change applied, at the
        seed's old indentation (a commit may also have moved it in or out of a block)."""
        old, new = self.seed.old, self.seed.new
        assert old is not None and new is not None
        parent_text, new_text = self.old_sources[old.path], self.new_sources[new.path]
        lines = new_text[new.start_byte : new.end_byte].split(b"\n")
        old_margin, new_margin = (
            _margin(parent_text, old.start_byte),
            _margin(new_text, new.start_byte),
        )
        if old_margin != new_margin:
            lines[1:] = [
                old_margin + line[len(new_margin) :] if line.startswith(new_margin) else line
                for line in lines[1:]
            ]
        return parent_text[: old.start_byte] + b"\n".join(lines) + parent_text[old.end_byte :]

    @property
    def truth(self) -> set[str]:
        """The other blocks the commit changed (ids in the parent; new ids for additions)."""
        return counted_ids(c for c in self.changes if c is not self.seed)


def _margin(text: bytes, offset: int) -> bytes:
    """The whitespace before `offset` on its line."""
    return text[text.rfind(b"\n", 0, offset) + 1 : offset]


def counted_ids(changes: Iterable[BlockChange]) -> set[str]:
    """The changed blocks of the counted kinds, by id in the old state (new for additions)."""
    return {(c.old or c.block).id for c in changes if c.block.kind in COUNTED_KINDS}


def find_cases(repo_path: Path, max_commits: int) -> Iterator[HistoryCase]:
    """Cases of the last `max_commits` commits (newest first, merges skipped), one per seed:
    a block whose signature or kind changed in place, in a commit changing other blocks."""
    source = git.Repo(repo_path)
    for commit in source.iter_commits(max_count=max_commits, no_merges=True):
        if not commit.parents:
            continue
        parent = commit.parents[0]
        sources = changed_python_sources(parent, commit)
        if sources is None:
            continue
        old_sources, new_sources = sources
        changes = commit_changes(old_sources, new_sources)
        seeds = [
            c
            for c in changes
            if c.old is not None
            and c.new is not None
            # a move (same name, another file or class) is not one block's own change
            and c.old.path == c.new.path
            and not (c.old.name == c.new.name and c.old.parent != c.new.parent)
            and (SIGNATURE_LABELS & set(classify(c)) or c.old.kind != c.new.kind)
        ]
        if not seeds or len(changes) < 2:
            continue
        for seed in seeds:
            yield HistoryCase(commit, parent, seed, changes, old_sources, new_sources)


def linked_blocks(graph: CodeGraph, seed_id: str) -> set[str]:
    """What depends on the changed symbol: who calls, imports, overrides or instantiates it
    (and what it overrides); not what it calls itself."""
    return {
        r.block.id for r in graph.related(seed_id, inverse=True) if r.relation_name != "ChildOf"
    } | {r.block.id for r in graph.related(seed_id) if r.relation_name == "Overrides"}


def run_cases(repo_path: Path, max_commits: int) -> list[Case]:
    cases: list[Case] = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "work"
        subprocess.run(
            ["git", "clone", "-q", "--no-checkout", str(repo_path), str(work)], check=True
        )
        checkout = git.Repo(work)
        options = GraphOptions(cache_dir=Path(scratch) / "cache", languages=("python",))
        checked_out: str | None = None
        for history in find_cases(repo_path, max_commits):
            if history.parent.hexsha != checked_out:
                checkout.git.checkout("--detach", "-f", history.parent.hexsha)
                checked_out = history.parent.hexsha
            case = _measure(work, options, history)
            if case is not None:
                cases.append(case)
    return cases


def _measure(work: Path, options: GraphOptions, history: HistoryCase) -> Case | None:
    seed, path = history.seed, history.path
    assert seed.old is not None
    parent_text = history.old_sources[path]
    seeded = history.seeded
    old = build_graph(work, options)
    if old.graph.get(seed.old.id) is None:
        return None  # the file is outside what the graph analyses (e.g. excluded)
    new = build_graph(work, options)
    new.update_file(path, seeded)
    seed_changes = diff_blocks(
        old.graph.blocks_in(path), new.graph.blocks_in(path), {path: parent_text}, {path: seeded}
    )
    report = analyze_impact(
        old.graph,
        new.graph,
        seed_changes,
        {path: parent_text},
        {path: seeded},
        read_source=file_reader(work) if SCREEN_CALLS else None,
    )
    impacted = {i.block.id for i in report.impacted}
    truth = history.truth
    linked = truth & linked_blocks(old.graph, seed.old.id)
    other = truth - linked
    return Case(
        commit=history.commit.hexsha[:10],
        seed=seed.old.id,
        labels=[label.value for label in classify(seed)],
        linked=len(linked),
        linked_found=len(linked & impacted),
        other=len(other),
        other_found=len(other & impacted),
        reported=len(impacted),
    )


def summarise(cases: list[Case]) -> dict[str, float | int]:
    with_linked = [c for c in cases if c.linked]
    linked = sum(c.linked for c in cases)
    found = sum(c.linked_found for c in cases)
    every = linked + sum(c.other for c in cases)
    every_found = found + sum(c.other_found for c in cases)
    return {
        "cases": len(cases),
        "cases_with_linked_blocks": len(with_linked),
        "linked_recall": found / linked if linked else 1.0,
        "cases_missing_nothing_linked": (
            sum(c.linked_found == c.linked for c in with_linked) / len(with_linked)
            if with_linked
            else 1.0
        ),
        "all_recall": every_found / every if every else 1.0,
        "reported_per_true_linked": (
            sum(c.reported for c in with_linked) / linked if linked else 0.0
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--max-commits", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print the cases as JSON too")
    args = parser.parse_args()
    cases = run_cases(args.repo, args.max_commits)
    summary = summarise(cases)
    print(f"{args.repo} (last {args.max_commits} commits)")
    for key, value in summary.items():
        print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
    if args.json:
        json.dump({"summary": summary, "cases": [asdict(c) for c in cases]}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
