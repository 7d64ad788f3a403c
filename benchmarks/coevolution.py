"""Test co-evolution against real history: does `identify` (`tests impacted`) find the tests
developers changed along with their production change?

For each of the last N commits of REPO_PATH (merges skipped, at most 15 Python files) that
changed production code, only its production files' changes are applied to the parent
commit (tests stay as they were), `identify` runs on that working tree, and
its tests are compared with the test functions the commit modified, renamed or deleted
(tests it added did not exist yet, so nothing can find them; tests it only reformatted,
or whose annotations or docstring alone it changed, run as before and were not made
obsolete, so they are left out too: codeplan/impact/erasure.py).  Commits changing tests
only by adding new ones are left out; commits changing production code only are
negatives: whatever is found there counts against precision.

Reported beside it (micro-averaged precision and recall over all cases):

- do-nothing: no test at all;
- naming: every test in test_x.py / x_test.py for a changed x.py;
- mention: every test function whose text mentions a changed production block's name;
- identify at score cuts: direct calls only (≥ 1.0), + helpers (≥ 0.6), + history (≥ 0.45:
  every test that calls or names the changed code), everything (+ two-step helper paths
  of tests that never name it, 0.4, and naming, 0.3).

Also the recall of the changed tests that reference the changed code (whose text mentions
a changed block's name): the target is ≥ 0.95 at precision far above the mention baseline.

    python benchmarks/coevolution.py REPO_PATH [--max-commits N] [--max-seconds S]
        [--max-cases N] [--max-depth N] [--run [--judge] [--compare]] [--update-sample N]
        [--backend local|docker] [--json]

`--run` (dynamic) runs, on each co-change case, the tests in the sandbox the way the
product's `codeplan tests impacted --run` does (`sweep_suite`: the whole suite, the
identified tests judged BROKEN, STALE, UNAFFECTED or UNKNOWN, and every other test that
fails now and passed on the parent added as BROKEN; `--no-sweep`: only the identified
tests, with `run_impacted`), and the tests the commit changed, as ground truth: a
changed test *breaks* when it fails (or cannot be collected) on the changed tree and
passes on the parent.  Tests failing on the parent too
are left out of both sides (the environment, not the change).  It reports whether every
breaking test was found (the target: all of them) and the precision and recall of BROKEN +
STALE against the changed and the breaking tests, beside the static cuts on the same cases.
A commit often repairs a test it broke without touching the test function: it fixes the
module's imports, a fixture or a conftest.  So the tests the run found broken that the
commit did not change run once more over the commit's whole tree, and those passing there
are *repaired*; the last two columns count them as obsolete beside the changed tests
(only the run's broken tests are checked this way, so a test no stage found never is).

`--update-sample N` then updates, on up to N cases with identified broken tests, those
tests with `TestUpdater` (checked apply, weakened-test guard, the sandbox run as the test
oracle) and an oracle editor that answers each request with the test block's text in the
commit (None when the commit did not change it, DELETE TEST when it deleted it), and
counts the tests that pass after the update, those deleted (allowed only when the
production change deleted what they check) and those the guard rejected.  Implies `--run`.

The local backend runs the tests in a temporary copy with a cached virtualenv (not
isolated); `--max-cases` bounds the work (co-change cases measured).  REPO_PATH is cloned
into a temporary folder and never written to.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import git

from codeplan.api import make_llm_editor
from codeplan.edit.apply import block_text
from codeplan.errors import CodePlanError, SandboxError
from codeplan.evolve.experiences import python_sources
from codeplan.evolve.history import PRODUCTION_KINDS, blocks_of, is_test_function, test_changes
from codeplan.evolve.identify import DEFAULT_DEPTH, identify
from codeplan.evolve.model import ChangedCode, Identified
from codeplan.graph import Block, BlockKind, GraphOptions
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.gcpause import release_frozen
from codeplan.impact import diff_blocks
from codeplan.impact.diff import BlockChange
from codeplan.impact.erasure import same_at_runtime
from codeplan.sandbox.session import Sandbox
from codeplan.validate.parsers import is_test_file, is_test_path

if __package__:
    from ._coevolution_case import (
        CUTS,
        Case,
        Commit,
        _at_least,
        _id,
        _print_table,
        _score,
        _write_files,
    )
    from ._coevolution_run import _broken, _open, _print_run, _print_updates, _run, _update
    from ._coevolution_run import summarise_run as summarise_run  # re-exported for the tests
else:  # run as a script: benchmarks/ is on sys.path
    from _coevolution_case import (
        CUTS,
        Case,
        Commit,
        _at_least,
        _id,
        _print_table,
        _score,
        _write_files,
    )
    from _coevolution_run import _broken, _open, _print_run, _print_updates, _run, _update
    from _coevolution_run import summarise_run as summarise_run  # re-exported for the tests

MAX_FILES = 15
DELETE = "DELETE TEST"  # the answer that deletes a test (codeplan/evolve/update.py)


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
        production_changes = [
            c
            for c in changes
            if c.block.kind in PRODUCTION_KINDS and not is_test_path(c.block.path)
        ]
        changed = [c.block for c in production_changes]
        runtime = [c for c in production_changes if not _no_runtime_change(c, old, new)]
        tests = [
            c
            for c in test_changes(changes, old_graph)
            if c.old is not None and not _no_runtime_change(c, old, new)
        ]
        truth = frozenset(c.old.id for c in tests if c.old is not None)
        if not changed or (not truth and paths != production):
            continue  # no production block changed, or tests were only added
        yield Commit(
            commit,
            {p: new.get(p) for p in production},
            _names(changed),
            _names(c.block for c in runtime),
            tuple(
                ChangedCode(b.path, b.qualname, b.start_line, b.end_line)
                for c in runtime
                # code run at import (class bodies, fields) is not any one test's doing
                if (b := c.old) is not None and b.kind in (BlockKind.FUNCTION, BlockKind.METHOD)
            ),
            frozenset(_stem(p) for p in production),
            truth,
            {
                c.old.id: block_text(new[c.new.path], c.new) if c.new is not None else DELETE
                for c in [*tests, *_test_imports(changes)]
                if c.old is not None
            },
        )


def _test_imports(changes: Sequence[BlockChange]) -> list[BlockChange]:
    """The commit's changes of test modules' import statements (what an import repair is
    answered with)."""
    return [
        c
        for c in changes
        if c.block.kind is BlockKind.IMPORT and is_test_path(c.block.path) and c.old is not None
    ]


def _no_runtime_change(change: BlockChange, old: dict[str, bytes], new: dict[str, bytes]) -> bool:
    """A test the commit only reformatted, or whose annotations or docstring alone it
    changed: it was not made obsolete, and runs as before (a style commit touches them all)."""
    before, after = change.old, change.new
    if before is None or after is None or before.qualname != after.qualname:
        return False
    return same_at_runtime(block_text(old[before.path], before), block_text(new[after.path], after))


def _names(blocks: Iterable[Block]) -> frozenset[str]:
    """The blocks' names as tests would say them (three characters or more)."""
    return frozenset(name for b in blocks if len(name := _mention_name(b)) >= 3)


def _mentioning(tests: Iterable[str], texts: Mapping[str, str], names: frozenset[str]) -> list[str]:
    """The tests whose text mentions one of `names`."""
    if not names:
        return []
    mention = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b")
    return [t for t in tests if mention.search(texts[t])]


def _mention_name(block: Block) -> str:
    if block.name == "__init__" and block.parent and "." in block.qualname:
        return block.qualname.rsplit(".", 2)[-2]
    return block.name


def _stem(path: str) -> str:
    *folders, name = path.split("/")
    return folders[-1] if name == "__init__.py" and folders else name.removesuffix(".py")


def parent_tests(commit: git.Commit) -> dict[str, str]:
    """Test id -> text of every test function of the parent commit pytest collects (not the
    functions named test* defined inside a test, as click's tests define commands)."""
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
        if is_test_function(b, graph) and not _nested(b, graph)
    }


def _nested(block: Block, graph: CodeGraph) -> bool:
    outer = graph.get(block.parent) if block.parent else None
    return outer is not None and outer.kind in (BlockKind.FUNCTION, BlockKind.METHOD)


@dataclass(frozen=True)
class Settings:
    max_commits: int = 300
    max_seconds: float = 450.0
    max_cases: int | None = None  # co-change cases measured, at most
    run: bool = False
    update_sample: int = 0
    backend: str = "local"
    sweep: bool = True  # --run as the product runs it: the whole suite, failures checked
    max_depth: int = DEFAULT_DEPTH  # steps through helpers (`tests impacted --max-depth`)
    judge: bool = False  # with run: the LLM stage, on the endpoint the environment names
    compare: bool = False  # with run: `tests impacted --run --compare`


def run_cases(repo_path: Path, settings: Settings) -> tuple[list[Case], bool]:
    cases: list[Case] = []
    started = time.monotonic()
    run = settings.run or settings.update_sample > 0
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
        # the endpoint is found as `codeplan run` finds it; its cache stays in the scratch
        judge = make_llm_editor(work, {}, os.environ) if settings.judge and run else None
        updated = 0
        for found in find_commits(checkout, settings.max_commits):
            if time.monotonic() - started > settings.max_seconds:
                return cases, True
            if settings.max_cases is not None and _positives(cases) >= settings.max_cases:
                break
            checkout.git.checkout("--detach", "-f", found.commit.parents[0].hexsha)
            checkout.git.clean("-fdq")
            _write_files(work, found.production)
            measured = _measure(work, found, options, settings.max_depth)
            release_frozen()  # the case's graphs are dropped: let their cycles go
            if measured is None:
                continue
            case, tests = measured
            cases.append(case)
            if not run or case.negative:
                continue
            if sandbox is None:
                sandbox = _open(work, settings.backend)
            try:
                judged = _run(
                    case, work, found, tests, sandbox, settings.sweep, judge, settings.compare
                )
                if updated < settings.update_sample and _broken(case, judged):
                    updated += 1
                    _update(case, work, found, judged, sandbox, options)
            except SandboxError as error:
                case.run_error = str(error).splitlines()[0][:300]
    return cases, False


def _positives(cases: Iterable[Case]) -> int:
    return sum(1 for c in cases if not c.negative)


def _measure(
    work: Path, found: Commit, options: GraphOptions, max_depth: int
) -> tuple[Case, Identified] | None:
    started = time.monotonic()
    try:
        found_tests = identify(work, options=options, max_depth=max_depth)
    except CodePlanError:
        return None  # nothing the graph analyses changed
    seconds = time.monotonic() - started
    texts = parent_tests(found.commit)
    truth = sorted(found.truth & texts.keys())
    case = Case(
        commit=found.commit.hexsha[:10],
        negative=not found.truth,
        changed_blocks=len(found.names),
        truth=truth,
        referencing=_mentioning(truth, texts, found.names),
        referencing_runtime=_mentioning(truth, texts, found.runtime_names),
        found={_id(t): (t.score, [r.kind for r in t.reasons]) for t in found_tests.tests},
        naming=[
            t
            for t in texts
            if is_test_file(name := t.split("::")[0].rsplit("/", 1)[-1])
            and name.removeprefix("test_").removesuffix(".py").removesuffix("_test") in found.stems
        ],
        mention=_mentioning(texts, texts, found.names),
        seconds=seconds,
        uncollectable=sorted(_id(t) for t in found_tests.tests if _id(t) not in texts),
    )
    return case, found_tests


def summarise(cases: list[Case]) -> dict[str, dict[str, float]]:
    methods: dict[str, Callable[[Case], set[str]]] = {
        "do-nothing": lambda c: set(),
        "naming": lambda c: set(c.naming),
        "mention": lambda c: set(c.mention),
    }
    for name, cut in CUTS.items():
        methods[f"identify:{name}"] = partial(_at_least, cut)
    return {name: _score(cases, predict, TRUTHS) for name, predict in methods.items()}


TRUTHS: dict[str, Callable[[Case], set[str]]] = {
    "": lambda c: set(c.truth),
    "_referencing": lambda c: set(c.referencing),
    "_referencing_runtime": lambda c: set(c.referencing_runtime),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--max-commits", type=int, default=300)
    parser.add_argument("--max-seconds", type=float, default=450.0)
    parser.add_argument("--max-cases", type=int, help="co-change cases measured, at most")
    parser.add_argument(
        "--max-depth", type=int, default=DEFAULT_DEPTH, help="steps through helpers"
    )
    parser.add_argument("--run", action="store_true", help="run the tests (dynamic stage)")
    parser.add_argument(
        "--update-sample", type=int, default=0, help="update the broken tests of N cases"
    )
    parser.add_argument("--backend", choices=("local", "docker"), default="local")
    parser.add_argument(
        "--no-sweep", action="store_true",
        help="--run only the identified tests, not the whole suite",
    )  # fmt: skip
    parser.add_argument(
        "--judge", action="store_true",
        help="with --run: the LLM stage (`tests impacted --judge`) on the OpenAI-compatible"
        " endpoint OPENAI_BASE_URL / OPENAI_API_KEY / CODEPLAN_MODEL name",
    )  # fmt: skip
    parser.add_argument(
        "--compare", action="store_true",
        help="with --run: compare the passing tests' runs with BASE (`tests impacted --compare`)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the cases as JSON too")
    args = parser.parse_args()
    settings = Settings(
        args.max_commits,
        args.max_seconds,
        args.max_cases,
        args.run,
        args.update_sample,
        args.backend,
        sweep=not args.no_sweep,
        max_depth=args.max_depth,
        judge=args.judge,
        compare=args.compare,
    )
    started = time.monotonic()
    cases, stopped = run_cases(args.repo.resolve(), settings)
    positives = [c for c in cases if not c.negative]
    print(
        f"{args.repo} (last {args.max_commits} commits"
        f"{', stopped at the time limit' if stopped else ''}): "
        f"{len(positives)} co-change cases, {len(cases) - len(positives)} production-only; "
        f"{sum(len(c.truth) for c in cases)} changed tests, "
        f"{sum(len(c.referencing) for c in cases)} referencing the changed code "
        f"({sum(len(c.referencing_runtime) for c in cases)} a runtime change of it); "
        f"identify: {sum(c.seconds for c in cases) / max(len(cases), 1):.2f} s per case"
    )
    summary = summarise(cases)
    _print_table(
        summary,
        {"recall(ref)": "recall_referencing", "(ref, runtime)": "recall_referencing_runtime"},
    )
    document: dict[str, object] = {"summary": summary}
    if settings.run or settings.update_sample:
        document["run"] = _print_run(cases)
    if settings.update_sample:
        document["updates"] = _print_updates(cases)
    print(f"  ({time.monotonic() - started:.0f} s in all)")
    if args.json:
        document["cases"] = [asdict(c) for c in cases]
        json.dump(document, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
