"""Test co-evolution against real history: does `identify_impacted_tests` find the tests
developers changed along with their production change?

For each of the last N commits of REPO_PATH (merges skipped, at most 15 Python files) that
changed production code, only its production files' changes are applied to the parent
commit (tests stay as they were), `identify_impacted_tests` runs on that working tree, and
its tests are compared with the test functions the commit modified, renamed or deleted
(tests it added did not exist yet, so nothing can find them).  Commits changing tests
only by adding new ones are left out; commits changing production code only are
negatives: whatever is found there counts against precision.

Reported beside it (micro-averaged precision and recall over all cases):

- do-nothing: no test at all;
- naming: every test in test_x.py / x_test.py for a changed x.py;
- mention: every test function whose text mentions a changed production block's name;
- identify at score cuts: direct calls only (≥ 1.0), + helpers (≥ 0.6), + history (≥ 0.45),
  everything (+ naming).

Also the recall of the changed tests that reference the changed code (whose text mentions
a changed block's name): the target is ≥ 0.95 at precision far above the mention baseline.

    python benchmarks/coevolution.py REPO_PATH [--max-commits N] [--max-seconds S] [--run] [--json]

`--run` also runs the identified tests (local backend: a virtualenv, not isolated) and
counts the verdicts of the changed and the unchanged tests.  REPO_PATH is cloned into a
temporary folder and never written to.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import git

from codeplan.config import read_config
from codeplan.errors import CodePlanError
from codeplan.evolve.experiences import python_sources
from codeplan.evolve.history import PRODUCTION_KINDS, blocks_of, is_test_function, test_changes
from codeplan.evolve.identify import identify_impacted_tests, run_impacted
from codeplan.graph import Block, GraphOptions
from codeplan.impact import diff_blocks
from codeplan.sandbox.session import Sandbox, open_sandbox
from codeplan.validate.parsers import is_test_file, is_test_path

MAX_FILES = 15
CUTS = {"calls": 1.0, "helpers": 0.6, "history": 0.45, "all": 0.0}


@dataclass
class Case:
    commit: str
    negative: bool  # production-only
    changed_blocks: int
    truth: list[str]
    referencing: list[str]  # the truth that mentions a changed block's name
    found: dict[str, tuple[float, list[str]]]  # test id -> score, evidence kinds
    naming: list[str]
    mention: list[str]
    seconds: float
    verdicts: dict[str, str] = field(default_factory=dict)  # test id -> status, with --run


@dataclass(frozen=True)
class Commit:
    commit: git.Commit
    production: dict[str, bytes | None]  # path -> new contents (None: deleted)
    names: frozenset[str]  # the changed production blocks' names, as tests would say them
    stems: frozenset[str]  # the changed production modules' names
    truth: frozenset[str]


def find_commits(repo: git.Repo, max_commits: int) -> Iterator[Commit]:
    for commit in repo.iter_commits(max_count=max_commits, no_merges=True):
        if not commit.parents:
            continue
        old, new = python_sources(commit.parents[0], commit)
        paths = set(old) | set(new)
        production = {p for p in paths if not is_test_path(p)}
        if not production or len(paths) > MAX_FILES:
            continue
        old_blocks, old_graph = blocks_of(old)
        changes = diff_blocks(old_blocks, blocks_of(new)[0], old, new)
        changed = [
            c.block
            for c in changes
            if c.block.kind in PRODUCTION_KINDS and not is_test_path(c.block.path)
        ]
        truth = frozenset(c.old.id for c in test_changes(changes, old_graph) if c.old is not None)
        if not changed or (not truth and paths != production):
            continue  # no production block changed, or tests were only added
        yield Commit(
            commit,
            {p: new.get(p) for p in production},
            frozenset(_mention_name(b) for b in changed if len(_mention_name(b)) >= 3),
            frozenset(_stem(p) for p in production),
            truth,
        )


def _mention_name(block: Block) -> str:
    if block.name == "__init__" and block.parent and "." in block.qualname:
        return block.qualname.rsplit(".", 2)[-2]
    return block.name


def _stem(path: str) -> str:
    *folders, name = path.split("/")
    return folders[-1] if name == "__init__.py" and folders else name.removesuffix(".py")


def parent_tests(commit: git.Commit) -> dict[str, str]:
    """Test id -> text of every test function of the parent commit."""
    parent = commit.parents[0]
    sources: dict[str, bytes] = {
        str(blob.path): blob.data_stream.read()
        for blob in parent.tree.traverse()
        if isinstance(blob, git.Blob) and is_test_path(str(blob.path))
    }
    blocks, graph = blocks_of(sources)
    return {
        b.id: sources[b.path][b.start_byte : b.end_byte].decode("utf-8", "replace")
        for b in blocks
        if is_test_function(b, graph)
    }


def run_cases(
    repo_path: Path, max_commits: int, max_seconds: float, run: bool
) -> tuple[list[Case], bool]:
    cases: list[Case] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "work"
        subprocess.run(
            [
                "git",
                "-c",
                "safe.directory=*",
                "clone",
                "-q",
                "--no-checkout",
                str(repo_path),
                str(work),
            ],
            check=True,
        )
        checkout = git.Repo(work)
        options = GraphOptions(cache_dir=Path(scratch) / "cache", languages=("python",))
        sandbox: Sandbox | None = None
        for found in find_commits(checkout, max_commits):
            if time.monotonic() - started > max_seconds:
                return cases, True
            checkout.git.checkout("--detach", "-f", found.commit.parents[0].hexsha)
            checkout.git.clean("-fdq")
            for path, text in found.production.items():
                target = work / path
                if text is None:
                    target.unlink(missing_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(text)
            if run and sandbox is None:
                sandbox = open_sandbox(work, read_config(work), os.environ, backend="local")
            case = _measure(work, found, options, sandbox)
            if case is not None:
                cases.append(case)
    return cases, False


def _measure(
    work: Path, found: Commit, options: GraphOptions, sandbox: Sandbox | None
) -> Case | None:
    started = time.monotonic()
    try:
        tests = identify_impacted_tests(work, options=options)
    except CodePlanError:
        return None  # nothing the graph analyses changed
    seconds = time.monotonic() - started
    texts = parent_tests(found.commit)
    mention = re.compile(r"\b(" + "|".join(map(re.escape, sorted(found.names))) + r")\b")
    truth = sorted(found.truth & texts.keys())
    verdicts = {}
    if sandbox is not None and tests:
        verdicts = {t.node_id: t.status.value for t in run_impacted(tests, sandbox, work)}
    return Case(
        commit=found.commit.hexsha[:10],
        negative=not found.truth,
        changed_blocks=len(found.names),
        truth=truth,
        referencing=[t for t in truth if found.names and mention.search(texts[t])],
        found={f"{t.path}::{t.qualname}": (t.score, [r.kind for r in t.reasons]) for t in tests},
        naming=[
            t
            for t in texts
            if is_test_file(name := t.split("::")[0].rsplit("/", 1)[-1])
            and name.removeprefix("test_").removesuffix(".py").removesuffix("_test") in found.stems
        ],
        mention=[t for t in texts if found.names and mention.search(texts[t])],
        seconds=seconds,
        verdicts=verdicts,
    )


def summarise(cases: list[Case]) -> dict[str, dict[str, float]]:
    truth = sum(len(c.truth) for c in cases)
    referencing = sum(len(c.referencing) for c in cases)
    methods: dict[str, Callable[[Case], set[str]]] = {
        "do-nothing": lambda c: set(),
        "naming": lambda c: set(c.naming),
        "mention": lambda c: set(c.mention),
    }
    for name, cut in CUTS.items():
        methods[f"identify:{name}"] = partial(_at_least, cut)
    rows = {}
    for name, predict in methods.items():
        predicted = hits = hits_referencing = 0
        for case in cases:
            guess = predict(case)
            predicted += len(guess)
            hits += len(guess & set(case.truth))
            hits_referencing += len(guess & set(case.referencing))
        rows[name] = {
            "predicted": predicted,
            "precision": hits / predicted if predicted else 0.0,
            "recall": hits / truth if truth else 1.0,
            "recall_referencing": hits_referencing / referencing if referencing else 1.0,
        }
    return rows


def _at_least(cut: float, case: Case) -> set[str]:
    return {test for test, (score, _) in case.found.items() if score >= cut}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--max-commits", type=int, default=300)
    parser.add_argument("--max-seconds", type=float, default=450.0)
    parser.add_argument("--run", action="store_true", help="run the tests found (local)")
    parser.add_argument("--json", action="store_true", help="print the cases as JSON too")
    args = parser.parse_args()
    cases, stopped = run_cases(args.repo.resolve(), args.max_commits, args.max_seconds, args.run)
    positives = [c for c in cases if not c.negative]
    print(
        f"{args.repo} (last {args.max_commits} commits{', stopped at the time limit' if stopped else ''}): "
        f"{len(positives)} co-change cases, {len(cases) - len(positives)} production-only; "
        f"{sum(len(c.truth) for c in cases)} changed tests, "
        f"{sum(len(c.referencing) for c in cases)} referencing the changed code; "
        f"identify: {sum(c.seconds for c in cases) / max(len(cases), 1):.2f} s per case"
    )
    summary = summarise(cases)
    print(f"  {'method':<18}{'predicted':>10}{'precision':>11}{'recall':>8}{'recall(ref)':>13}")
    for name, row in summary.items():
        print(
            f"  {name:<18}{row['predicted']:>10}{row['precision']:>11.3f}"
            f"{row['recall']:>8.3f}{row['recall_referencing']:>13.3f}"
        )
    if args.run:
        verdicts = Counter(
            ("changed" if t in c.truth else "unchanged", v)
            for c in cases
            for t, v in c.verdicts.items()
        )
        print("  verdicts:", dict(sorted(verdicts.items())))
    if args.json:
        json.dump({"summary": summary, "cases": [asdict(c) for c in cases]}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
