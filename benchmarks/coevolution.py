"""Test co-evolution against real history: does `identify_impacted_tests` find the tests
developers changed along with their production change?

For each of the last N commits of REPO_PATH (merges skipped, at most 15 Python files) that
changed production code, only its production files' changes are applied to the parent
commit (tests stay as they were), `identify_impacted_tests` runs on that working tree, and
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
- identify at score cuts: direct calls only (≥ 1.0), + helpers (≥ 0.6), + history (≥ 0.45),
  everything (+ naming).

Also the recall of the changed tests that reference the changed code (whose text mentions
a changed block's name): the target is ≥ 0.95 at precision far above the mention baseline.

    python benchmarks/coevolution.py REPO_PATH [--max-commits N] [--max-seconds S]
        [--max-cases N] [--run] [--update-sample N] [--backend local|docker] [--json]

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
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import git

from codeplan.config import read_config
from codeplan.edit.apply import block_text
from codeplan.edit.model import EditRequest
from codeplan.errors import CodePlanError, SandboxError
from codeplan.evolve.changes import production_changes
from codeplan.evolve.experiences import python_sources
from codeplan.evolve.history import PRODUCTION_KINDS, blocks_of, is_test_function, test_changes
from codeplan.evolve.identify import identify_impacted_tests, run_impacted
from codeplan.evolve.model import ImpactedTest, TestStatus
from codeplan.evolve.phase import OBSOLETE, _failure, _relevant
from codeplan.evolve.sweep import sweep_suite
from codeplan.evolve.update import TestUpdater
from codeplan.evolve.verdict import by_node
from codeplan.graph import Block, BlockKind, GraphOptions, build_graph
from codeplan.graph.codegraph import CodeGraph
from codeplan.impact import diff_blocks
from codeplan.impact.diff import BlockChange
from codeplan.impact.erasure import same_at_runtime
from codeplan.plan.folder import FolderTree
from codeplan.sandbox.session import Sandbox, open_sandbox
from codeplan.validate.parsers import is_test_file, is_test_path

MAX_FILES = 15
CUTS = {"calls": 1.0, "helpers": 0.6, "history": 0.45, "all": 0.0}
RUN_SECONDS = 300.0  # one sandbox test run at most (the sandbox's default is 900)
GUARDED = "the update "
DELETE = "DELETE TEST"  # the answer that deletes a test (codeplan/evolve/update.py)  # how the weakened-test guard's reasons begin (codeplan/evolve/guard.py)


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
    # identified "tests" pytest cannot collect (functions nested in a test): pytest refuses
    # a run naming one ("found no collectors"), so --run leaves them out
    uncollectable: list[str] = field(default_factory=list)
    # with --run (co-change cases only):
    ran: bool = False
    verdicts: dict[str, str] = field(default_factory=dict)  # identified test id -> status
    breaks: list[str] = field(default_factory=list)  # changed tests the change breaks
    failing_before: list[str] = field(default_factory=list)  # not passing on the parent
    run_error: str = ""
    run_seconds: float = 0.0
    # with --update-sample: identified broken test -> what updating it with the oracle gave
    # ("updated": passes now; "unchanged": the commit left it as it was; "guard": the
    # weakened-test guard refused the commit's version; "rejected": the edit did not apply;
    # "failed": the commit's version of the block alone still fails)
    updates: dict[str, str] = field(default_factory=dict)
    update_notes: dict[str, str] = field(default_factory=dict)  # why not updated, in short


@dataclass(frozen=True)
class Commit:
    commit: git.Commit
    production: dict[str, bytes | None]  # path -> new contents (None: deleted)
    names: frozenset[str]  # the changed production blocks' names, as tests would say them
    stems: frozenset[str]  # the changed production modules' names
    truth: frozenset[str]
    answers: dict[str, str | None]  # changed test id -> its block's text in the commit

    def parent_production(self) -> dict[str, bytes | None]:
        """The production files as they were in the parent (None: absent)."""
        tree = self.commit.parents[0].tree
        found: dict[str, bytes | None] = {}
        for path in self.production:
            try:
                found[path] = tree[path].data_stream.read()
            except KeyError:
                found[path] = None
        return found


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
        tests = [
            c
            for c in test_changes(changes, old_graph)
            if c.old is not None and not _reformatted(c, old, new)
        ]
        truth = frozenset(c.old.id for c in tests if c.old is not None)
        if not changed or (not truth and paths != production):
            continue  # no production block changed, or tests were only added
        yield Commit(
            commit,
            {p: new.get(p) for p in production},
            frozenset(_mention_name(b) for b in changed if len(_mention_name(b)) >= 3),
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


def _reformatted(change: BlockChange, old: dict[str, bytes], new: dict[str, bytes]) -> bool:
    """A test the commit only reformatted, or whose annotations or docstring alone it
    changed: it was not made obsolete, and runs as before (a style commit touches them all)."""
    before, after = change.old, change.new
    if before is None or after is None or before.qualname != after.qualname:
        return False
    return same_at_runtime(block_text(old[before.path], before), block_text(new[after.path], after))


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
        updated = 0
        for found in find_commits(checkout, settings.max_commits):
            if time.monotonic() - started > settings.max_seconds:
                return cases, True
            if settings.max_cases is not None and _positives(cases) >= settings.max_cases:
                break
            checkout.git.checkout("--detach", "-f", found.commit.parents[0].hexsha)
            checkout.git.clean("-fdq")
            _write_files(work, found.production)
            measured = _measure(work, found, options)
            if measured is None:
                continue
            case, tests = measured
            cases.append(case)
            if not run or case.negative:
                continue
            if sandbox is None:
                sandbox = _open(work, settings.backend)
            try:
                judged = _run(case, work, found, tests, sandbox, settings.sweep)
                if updated < settings.update_sample and _broken(case, judged):
                    updated += 1
                    _update(case, work, found, judged, sandbox, options)
            except SandboxError as error:
                case.run_error = str(error).splitlines()[0][:300]
    return cases, False


def _positives(cases: Iterable[Case]) -> int:
    return sum(1 for c in cases if not c.negative)


def _write_files(work: Path, files: Mapping[str, bytes | None]) -> None:
    for path, data in files.items():
        target = work / path
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _open(work: Path, backend: str) -> Sandbox:
    """The sandbox, built once per repository (from the newest case's environment)."""
    sandbox = open_sandbox(work, read_config(work), os.environ, backend=backend)
    limits = replace(sandbox.spec.limits, timeout_seconds=RUN_SECONDS)
    # a tox substitution CodePlan drops (`--basetemp={envtmpdir}`) leaves an empty option
    # pytest refuses, and then no test runs at all
    words = [w for w in shlex.split(sandbox.spec.environment.test) if not _empty_option(w)]
    if any(w.endswith("pytest") for w in words[:3]):
        # the virtualenv's pytest is newer than most of the history: its own deprecations
        # must not fail old test modules whose configuration turns warnings into errors
        words += ["-W", "ignore::pytest.PytestDeprecationWarning"]
    test = shlex.join(words)
    environment = replace(sandbox.spec.environment, test=test)
    sandbox.spec = replace(sandbox.spec, limits=limits, environment=environment)
    return sandbox


def _empty_option(word: str) -> bool:
    return re.fullmatch(r"--[\w-]+=", word) is not None


def _measure(
    work: Path, found: Commit, options: GraphOptions
) -> tuple[Case, list[ImpactedTest]] | None:
    started = time.monotonic()
    try:
        tests = identify_impacted_tests(work, options=options)
    except CodePlanError:
        return None  # nothing the graph analyses changed
    seconds = time.monotonic() - started
    texts = parent_tests(found.commit)
    mention = re.compile(r"\b(" + "|".join(map(re.escape, sorted(found.names))) + r")\b")
    truth = sorted(found.truth & texts.keys())
    case = Case(
        commit=found.commit.hexsha[:10],
        negative=not found.truth,
        changed_blocks=len(found.names),
        truth=truth,
        referencing=[t for t in truth if found.names and mention.search(texts[t])],
        found={_id(t): (t.score, [r.kind for r in t.reasons]) for t in tests},
        naming=[
            t
            for t in texts
            if is_test_file(name := t.split("::")[0].rsplit("/", 1)[-1])
            and name.removeprefix("test_").removesuffix(".py").removesuffix("_test") in found.stems
        ],
        mention=[t for t in texts if found.names and mention.search(texts[t])],
        seconds=seconds,
        uncollectable=sorted(_id(t) for t in tests if _id(t) not in texts),
    )
    return case, tests


def _id(test: ImpactedTest) -> str:
    return f"{test.path}::{test.qualname}"


def _node_id(test_id: str) -> str:
    path, qualname = test_id.split("::", 1)
    return ImpactedTest(path, qualname, TestStatus.UNKNOWN, ()).node_id


def _run(
    case: Case,
    work: Path,
    found: Commit,
    tests: Sequence[ImpactedTest],
    sandbox: Sandbox,
    sweep: bool,
) -> list[ImpactedTest]:
    """The product's verdicts on the identified tests (and, with `sweep`, on the failing
    tests no static link reached), and the ground truth: which changed tests fail on the
    changed tree but pass on the parent.  The tree is left changed."""
    started = time.monotonic()
    reached = [t for t in tests if _id(t) not in case.uncollectable]
    if sweep:
        with tempfile.TemporaryDirectory() as scratch:
            base = Path(scratch) / "base"
            shutil.copytree(work, base, ignore=shutil.ignore_patterns(".git", ".codeplan"))
            _write_files(base, found.parent_production())
            judged = sweep_suite(reached, sandbox, work, base)
    else:
        judged = run_impacted(reached, sandbox, work)
    changed = _outcomes(sandbox, work, case.truth)
    failing = {t for t, outcome in changed.items() if outcome in ("failed", "missing")}
    suspects = failing | {_id(t) for t in judged if t.status is TestStatus.BROKEN}
    if suspects:
        _write_files(work, found.parent_production())
        try:
            before = _outcomes(sandbox, work, suspects)
        finally:
            _write_files(work, found.production)
        case.failing_before = sorted(t for t, outcome in before.items() if outcome != "passed")
    case.ran = True
    case.verdicts = {_id(t): _verdict(t) for t in judged}
    case.breaks = sorted(failing - set(case.failing_before))
    case.run_seconds = time.monotonic() - started
    return judged


def _verdict(test: ImpactedTest) -> str:
    """The status; an unknown one with why ("unknown: not collected")."""
    if test.status is TestStatus.UNKNOWN:
        return f"unknown: {_failure(test)}"
    return str(test.status.value)


def _outcomes(sandbox: Sandbox, tree: Path, test_ids: Iterable[str]) -> dict[str, str]:
    """Each test's outcome over `tree`: passed, failed, skipped, or missing (not collected,
    as when its module no longer imports); a broken module does not stop the others."""
    wanted = {test_id: _node_id(test_id) for test_id in test_ids}
    if not wanted:
        return {}
    args = ["--continue-on-collection-errors", *sorted(set(wanted.values()))]
    run = sandbox.run_tests(tree, args, rerun_failures=False)
    if run.infrastructure_error:
        raise SandboxError(run.infrastructure_error)
    seen = {node: {o.outcome for o in outcomes} for node, outcomes in by_node(run).items()}
    found = {}
    for test_id, node_id in wanted.items():
        got = seen.get(node_id, set())
        if got & {"failed", "error"}:
            found[test_id] = "failed"
        elif got & {"passed", "xpass"}:
            found[test_id] = "passed"
        elif got:
            found[test_id] = "skipped"
        else:
            found[test_id] = "timed-out" if run.timed_out else "missing"
    return found


def _broken(case: Case, judged: Sequence[ImpactedTest]) -> list[ImpactedTest]:
    """The identified tests the run found broken, but not those failing on the parent."""
    return [
        t for t in judged if t.status is TestStatus.BROKEN and _id(t) not in case.failing_before
    ]


class OracleEditor:
    """An editor answering each test (and each test module's import statement) with its
    block's text in the commit: None (no change) for one the commit left as it was,
    DELETE TEST for one it deleted."""

    def __init__(self, answers: Mapping[str, str | None]) -> None:
        self.answers = answers

    def __call__(self, request: EditRequest) -> str | None:
        return self.answers.get(request.block_id)


def _update(
    case: Case,
    work: Path,
    found: Commit,
    judged: Sequence[ImpactedTest],
    sandbox: Sandbox,
    options: GraphOptions,
) -> None:
    """Update the case's broken tests as `codeplan tests evolve` would, with the oracle
    editor (one attempt: it would answer the same again)."""

    def run_test(node_id: str) -> tuple[bool, str]:
        run = sandbox.run_tests(work, [node_id], rerun_failures=False)
        return bool(run.tests) and all(t.outcome == "passed" for t in run.tests), run.output_tail

    builder = build_graph(work, options)
    changes = production_changes(work)
    updater = TestUpdater(
        builder, FolderTree(work), OracleEditor(found.answers), run_test, attempts=1
    )
    for test in _broken(case, judged):
        assert test.status in OBSOLETE
        outcome = updater.update(test, _relevant(changes, test), _failure(test))
        status = outcome.status
        if status == "rejected" and any(f.startswith(GUARDED) for f in outcome.feedback):
            status = "guard"
        case.updates[_id(test)] = status
        if status != "updated" and outcome.feedback:
            lines = [line.strip() for line in outcome.feedback[-1].splitlines() if line.strip()]
            errors = [line for line in lines if "Error" in line or line.startswith("E ")]
            case.update_notes[_id(test)] = (errors or lines)[-1][:200]


def summarise(cases: list[Case]) -> dict[str, dict[str, float]]:
    methods: dict[str, Callable[[Case], set[str]]] = {
        "do-nothing": lambda c: set(),
        "naming": lambda c: set(c.naming),
        "mention": lambda c: set(c.mention),
    }
    for name, cut in CUTS.items():
        methods[f"identify:{name}"] = partial(_at_least, cut)
    return {
        name: _score(cases, predict, {"": lambda c: set(c.truth), "_referencing": _referencing})
        for name, predict in methods.items()
    }


def _referencing(case: Case) -> set[str]:
    return set(case.referencing)


def _score(
    cases: Sequence[Case],
    predict: Callable[[Case], set[str]],
    truths: Mapping[str, Callable[[Case], set[str]]],
) -> dict[str, float]:
    """Micro-averaged: precision against the first truth, recall against each."""
    predicted = sum(len(predict(c)) for c in cases)
    row: dict[str, float] = {"predicted": predicted}
    for n, (suffix, truth) in enumerate(truths.items()):
        hits = sum(len(predict(c) & truth(c)) for c in cases)
        wanted = sum(len(truth(c)) for c in cases)
        if n == 0:
            row["precision"] = hits / predicted if predicted else 0.0
        row[f"recall{suffix}"] = hits / wanted if wanted else 1.0
    return row


def _at_least(cut: float, case: Case) -> set[str]:
    return {test for test, (score, _) in case.found.items() if score >= cut}


def summarise_run(cases: list[Case]) -> dict[str, dict[str, float]]:
    """On the cases run: static cuts and the run's verdicts against the changed tests and
    the breaking ones (tests failing on the parent left out of both sides)."""
    ran = [c for c in cases if c.ran]
    methods: dict[str, Callable[[Case], set[str]]] = {
        f"identify:{name}": partial(_at_least, cut) for name, cut in CUTS.items()
    }
    methods["run:broken"] = partial(_with_verdict, ("broken",))
    methods["run:broken+stale"] = partial(_with_verdict, ("broken", "stale"))
    # what the run would give if a test whose module no longer imports counted as broken
    # (run_impacted leaves it, and every other test of that run, unknown)
    methods["run:+uncollected"] = partial(
        _with_verdict, ("broken", "stale", "unknown: not collected")
    )
    truths = {"": _changed_passing_before, "_breaks": _breaks}
    return {
        name: _score(ran, partial(_passing_before, predict), truths)
        for name, predict in methods.items()
    }


def _passing_before(predict: Callable[[Case], set[str]], case: Case) -> set[str]:
    return predict(case) - set(case.failing_before)


def _with_verdict(statuses: tuple[str, ...], case: Case) -> set[str]:
    return {t for t, status in case.verdicts.items() if status in statuses}


def _changed_passing_before(case: Case) -> set[str]:
    return set(case.truth) - set(case.failing_before)


def _breaks(case: Case) -> set[str]:
    return set(case.breaks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--max-commits", type=int, default=300)
    parser.add_argument("--max-seconds", type=float, default=450.0)
    parser.add_argument("--max-cases", type=int, help="co-change cases measured, at most")
    parser.add_argument("--run", action="store_true", help="run the tests (dynamic stage)")
    parser.add_argument(
        "--update-sample", type=int, default=0, help="update the broken tests of N cases"
    )
    parser.add_argument("--backend", choices=("local", "docker"), default="local")
    parser.add_argument(
        "--no-sweep", action="store_true",
        help="--run only the identified tests, not the whole suite",
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
    )
    started = time.monotonic()
    cases, stopped = run_cases(args.repo.resolve(), settings)
    positives = [c for c in cases if not c.negative]
    print(
        f"{args.repo} (last {args.max_commits} commits"
        f"{', stopped at the time limit' if stopped else ''}): "
        f"{len(positives)} co-change cases, {len(cases) - len(positives)} production-only; "
        f"{sum(len(c.truth) for c in cases)} changed tests, "
        f"{sum(len(c.referencing) for c in cases)} referencing the changed code; "
        f"identify: {sum(c.seconds for c in cases) / max(len(cases), 1):.2f} s per case"
    )
    summary = summarise(cases)
    _print_table(summary, "recall(ref)", "recall_referencing")
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


def _print_run(cases: list[Case]) -> dict[str, dict[str, float]]:
    ran = [c for c in cases if c.ran]
    errors = [c for c in cases if c.run_error]
    changed = sum(len(_changed_passing_before(c)) for c in ran)
    breaks = sum(len(c.breaks) for c in ran)
    before = sum(len(set(c.truth) & set(c.failing_before)) for c in ran)
    # found: identified statically, or reported broken by the run (the sweep's own finds)
    missed = [
        t for c in ran for t in c.breaks if t not in c.found and c.verdicts.get(t) != "broken"
    ]
    found = breaks - len(missed)
    print(
        f"  --run: {len(ran)} co-change cases run ({len(errors)} sandbox errors, "
        f"{sum(c.run_seconds for c in ran) / max(len(ran), 1):.1f} s per case); "
        f"{changed} changed tests passing on the parent ({before} more failing there, "
        f"left out); {breaks} break on the changed tree; found {found}/{breaks}"
        f" ({'every breaking test found' if not missed else 'missed: ' + ', '.join(missed)})"
    )
    for case in errors:
        print(f"    sandbox error in {case.commit}: {case.run_error}")
    nested = [c for c in ran if c.uncollectable]
    print(
        f"  {sum(len(c.uncollectable) for c in nested)} identified tests in {len(nested)} cases "
        "are functions nested in a test (not run: naming one makes pytest run nothing)"
    )
    verdicts = Counter(
        ("changed" if t in c.truth else "unchanged", v) for c in ran for t, v in c.verdicts.items()
    )
    print("  verdicts of the identified tests:", dict(sorted(verdicts.items())))
    summary = summarise_run(cases)
    _print_table(summary, "recall(breaks)", "recall_breaks")
    return summary


def _print_table(summary: dict[str, dict[str, float]], last: str, last_key: str) -> None:
    """One row per method: predicted, precision, recall, and the `last_key` column."""
    width = len(last) + 2
    print(f"  {'method':<18}{'predicted':>10}{'precision':>11}{'recall':>8}{last:>{width}}")
    for name, row in summary.items():
        print(
            f"  {name:<18}{row['predicted']:>10}{row['precision']:>11.3f}"
            f"{row['recall']:>8.3f}{row[last_key]:>{width}.3f}"
        )


def _print_updates(cases: list[Case]) -> dict[str, int]:
    sampled = [c for c in cases if c.updates]
    statuses = Counter(status for c in sampled for status in c.updates.values())
    breaking = Counter(status for c in sampled for t, status in c.updates.items() if t in c.breaks)
    total = sum(statuses.values())
    print(
        f"  --update-sample: {len(sampled)} cases, {total} identified broken tests updated "
        f"with the commit's text: {statuses['updated']} pass after the update, "
        f"{statuses['deleted']} deleted as the commit did, "
        f"{statuses['guard']} rejected by the guard; {dict(sorted(statuses.items()))}; "
        f"of those the commit changed ({sum(breaking.values())}): {dict(sorted(breaking.items()))}"
    )
    return dict(statuses)


if __name__ == "__main__":
    raise SystemExit(main())
