"""The dynamic stage of benchmarks/coevolution.py (`--run`): the identified tests run in the
sandbox the way the product runs them, beside the changed tests that break as the ground
truth; and its update stage (`--update-sample`): the broken tests updated with `TestUpdater`
and an oracle editor that answers with the commit's text.  The script's docstring says
what is measured and reported."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from codeplan.config import read_config
from codeplan.edit.model import EditRequest, TriagingEditor
from codeplan.errors import SandboxError
from codeplan.evolve.changes import production_changes
from codeplan.evolve.identify import run_impacted
from codeplan.evolve.judge import judge_passing_tests
from codeplan.evolve.model import ChangedCode, Identified, ImpactedTest, TestStatus
from codeplan.evolve.phase import OBSOLETE, _failure, _relevant, sandbox_runners
from codeplan.evolve.sweep import sweep_suite
from codeplan.evolve.update import TestUpdater
from codeplan.evolve.verdict import by_node, executed_by_node
from codeplan.graph import GraphOptions, build_graph
from codeplan.plan.folder import FolderTree
from codeplan.sandbox.session import Sandbox, open_sandbox

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

RUN_SECONDS = 300.0  # one sandbox test run at most (the sandbox's default is 900)
GUARDED = "the update "  # how the weakened-test guard's reasons begin (codeplan/evolve/guard.py)


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


def _node_id(test_id: str) -> str:
    path, qualname = test_id.split("::", 1)
    return ImpactedTest(path, qualname, TestStatus.UNKNOWN, ()).node_id


def _run(
    case: Case,
    work: Path,
    found: Commit,
    identified: Identified,
    sandbox: Sandbox,
    sweep: bool,
    judge: TriagingEditor | None = None,
    compare: bool = False,
) -> list[ImpactedTest]:
    """The product's verdicts on the identified tests (and, with `sweep`, on the failing
    tests no static link reached; with `judge`, on the passing ones the editor judged),
    and the ground truth: which changed tests fail on the
    changed tree but pass on the parent, and which ran code the change altered at runtime
    (traced on the parent).  The tree is left changed."""
    started = time.monotonic()
    reached = [t for t in identified.tests if _id(t) not in case.uncollectable]
    if sweep:
        with tempfile.TemporaryDirectory() as scratch:
            base = Path(scratch) / "base"
            shutil.copytree(work, base, ignore=shutil.ignore_patterns(".git", ".codeplan"))
            _write_files(base, found.parent_production())
            judged = sweep_suite(
                replace(identified, tests=reached), sandbox, work, base, compare=compare
            )
    else:
        judged = run_impacted(reached, sandbox, work)
    if judge is not None and identified.graph is not None:
        changes = production_changes(work)
        judged = judge_passing_tests(
            judged, changes, identified.graph, FolderTree(work).read, judge
        )
        case.judged = True
    changed, _ = _outcomes(sandbox, work, case.truth)
    failing = {t for t, outcome in changed.items() if outcome in ("failed", "missing")}
    suspects = failing | {_id(t) for t in judged if t.status is TestStatus.BROKEN}
    if suspects or case.truth:
        _write_files(work, found.parent_production())
        try:
            before, executed = _outcomes(
                sandbox, work, suspects | set(case.truth), found.runtime_blocks
            )
        finally:
            _write_files(work, found.production)
        case.failing_before = sorted(t for t in suspects if before[t] != "passed")
        case.executing = sorted(
            t
            for t in case.truth
            if any(code.run_in(executed.get(_node_id(t), {})) for code in found.runtime_blocks)
        )
    unchanged_broken = sorted(_id(t) for t in _broken(case, judged) if _id(t) not in case.truth)
    if unchanged_broken:
        case.repaired = _repaired(sandbox, work, found, unchanged_broken)
    case.ran = True
    case.verdicts = {_id(t): _verdict(t) for t in judged}
    case.executes = sorted(_id(t) for t in judged if any(r.kind == "executes" for r in t.reasons))
    case.breaks = sorted(failing - set(case.failing_before))
    case.run_seconds = time.monotonic() - started
    return judged


def _verdict(test: ImpactedTest) -> str:
    """The status; an unknown one with why ("unknown: not collected")."""
    if test.status is TestStatus.UNKNOWN:
        return f"unknown: {_failure(test)}"
    return str(test.status.value)


def _outcomes(
    sandbox: Sandbox, tree: Path, test_ids: Iterable[str], watched: Sequence[ChangedCode] = ()
) -> tuple[dict[str, str], dict[str, dict[str, set[int]]]]:
    """Each test's outcome over `tree`: passed, failed, skipped, or missing (not collected,
    as when its module no longer imports); a broken module does not stop the others.  And
    by node id, the lines of the `watched` code's files each test executed."""
    wanted = {test_id: _node_id(test_id) for test_id in test_ids}
    if not wanted:
        return {}, {}
    args = ["--continue-on-collection-errors", *sorted(set(wanted.values()))]
    trace = sorted({code.path for code in watched})
    run = sandbox.run_tests(tree, args, rerun_failures=False, trace=trace)
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
    return found, executed_by_node(run.executed_by_test or {})


def _repaired(sandbox: Sandbox, work: Path, found: Commit, test_ids: list[str]) -> list[str]:
    """Those of the tests that pass on the commit's whole tree (its test-side edits too)."""
    with tempfile.TemporaryDirectory() as scratch:
        whole = Path(scratch) / "commit"
        shutil.copytree(work, whole, ignore=shutil.ignore_patterns(".git", ".codeplan"))
        _write_files(whole, found.test_side())
        outcomes, _ = _outcomes(sandbox, whole, test_ids)
    return sorted(test for test, outcome in outcomes.items() if outcome == "passed")


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

    run_test, trace_test = sandbox_runners(sandbox, work)
    builder = build_graph(work, options)
    changes = production_changes(work)
    updater = TestUpdater(
        builder, FolderTree(work), OracleEditor(found.answers), run_test,
        trace_test=trace_test, attempts=1,
    )  # fmt: skip
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
    # and every test the run saw execute the changed code
    methods["run:+executes"] = lambda c: _with_verdict(("broken", "stale"), c) | set(c.executes)
    truths = {
        "": _changed_passing_before,
        "_breaks": _breaks,
        "_executing": lambda c: set(c.executing),
        # the changed tests and the ones the commit's other test-side edits repaired
        "_obsolete": lambda c: _changed_passing_before(c) | set(c.repaired),
    }
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
        f"left out); {sum(len(c.executing) for c in ran)} ran code the change altered "
        f"(traced on the parent); {breaks} break on the changed tree; found {found}/{breaks}"
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
    judged = sum(1 for c in ran if c.judged)
    with_judge = f" (the editor judged the passing ones in {judged} cases)" if judged else ""
    print(f"  verdicts of the identified tests{with_judge}:", dict(sorted(verdicts.items())))
    summary = summarise_run(cases)
    repaired = sum(len(c.repaired) for c in ran)
    print(
        f"  {repaired} tests the run found broken, unchanged by the commit, pass on its whole "
        "tree (its edits elsewhere repaired them): counted as obsolete in the last two columns"
    )
    columns = {
        "recall(breaks)": "recall_breaks",
        "recall(exec)": "recall_executing",
        "prec(obsolete)": "precision_obsolete",
        "rec(obsolete)": "recall_obsolete",
    }
    _print_table(summary, columns)
    return summary


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
