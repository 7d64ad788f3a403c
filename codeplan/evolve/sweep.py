"""The dynamic stage's safety net: run the whole suite, not only the tests static analysis
reached, so that every test the change breaks is found.

A change can break a test no static link reaches (a fixture built by reflection, a value
compared through three layers of helpers).  The sweep runs the whole suite over the
changed tree once: the reached tests get their verdicts from that run as `run_impacted`
would give them, and every other failing test is a suspect.  Suspects, and the reached
tests found broken, run again over the base tree: a test that fails there too was failing
before the change (the environment, not the change) and is not reported as broken.
Without per-test outcomes to sweep with (a test command other than pytest), or with a suite
slower than the sandbox allows, the tests found are run as `run_impacted` runs them.

Given the changed functions and methods, the whole-suite run also watches which of them each
test executes (codeplan/sandbox/trace.py).  A test that runs one gets that as evidence
("executes"), and one no static link reached is listed too: it may assert on what changed.
When every runtime change is such a function, a passing test that runs none of them runs
the code as it was, so the static suspicion that it is stale is dropped.

With `compare`, the run also observes the changed files from outside: what each call
into them returns or raises, per test; and the passing tests that run changed code run
again over the base tree, observed alike (codeplan/evolve/behaviour.py).  A test the
changed files answered otherwise than before ("behaves") is stale: it passes, yet what it exercises changed under it.  One to which
they answered as before saw nothing of the change, and is unaffected, when answers are all
a caller can see of each changed function it runs (no I/O or global state changed, see
`ChangedCode.comparable`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codeplan.evolve.behaviour import Behaviour, Observations
from codeplan.evolve.model import ChangedCode, Evidence, Identified, ImpactedTest, TestStatus
from codeplan.evolve.verdict import (
    COLLECTION_FAILURE,
    IMPORT_FAILURE,
    MAX_NODE_IDS,
    by_node,
    executed_by_node,
    failure_line,
    judge,
    run_impacted,
    run_outcome,
    unimportable_modules,
)
from codeplan.sandbox.backends import runs_pytest
from codeplan.sandbox.model import TestOutcome, TestRun
from codeplan.sandbox.session import Sandbox

KEEP_GOING = "--continue-on-collection-errors"  # one module that fails to import stops no other
_FAILED = ("failed", "error")


def sweep_suite(
    found: Identified, sandbox: Sandbox, tree: Path, base_tree: Path, *, compare: bool = False
) -> list[ImpactedTest]:
    """The tests `found` with their verdicts from a whole-suite run over `tree`, followed
    by the tests no static evidence reached that fail over `tree` and pass over
    `base_tree`, and by those that pass and execute the changed code.  With `compare`, a
    passing test that runs changed code is stale when the changed files answer it
    otherwise than over `base_tree` (it runs there too)."""
    tests, changed = found.tests, found.changed
    if not runs_pytest(sandbox.spec):
        return run_impacted(tests, sandbox, tree)  # no per-test outcomes to sweep with
    watched = sorted({code.path for code in changed})
    run = run_outcome(sandbox, tree, [KEEP_GOING], trace=watched, observe=compare)
    if run.timed_out:
        # a suite too slow for the sandbox's time limit: the tests found still get verdicts
        return run_impacted(tests, sandbox, tree)
    outcomes_now = by_node(run)
    unimportable = unimportable_modules(run)
    judged = judge(tests, outcomes_now, unimportable, "not collected")
    reached = {test.node_id for test in tests}
    unreached = sorted(
        node
        for node, outcomes in outcomes_now.items()
        if node not in reached
        and _fails(outcomes)
        and not any(o.message == COLLECTION_FAILURE for o in outcomes)  # a module, not a test
    )
    suspects = [*unreached, *(t.node_id for t in judged if t.status is TestStatus.BROKEN)]
    executed = executed_by_node(run.executed_by_test or {})
    compared = (
        sorted(
            node
            for node, hits in executed.items()
            if node in outcomes_now
            and not _fails(outcomes_now[node])
            and any(code.run_in(hits) for code in changed)
        )
        if compare
        else []
    )
    # a module that no longer imports lists none of its tests: the base tree's run does
    base = _base_run(
        sandbox, base_tree, [*suspects, *sorted(unimportable), *compared], watched, compare
    )
    before = base.verdicts
    result = [
        _failing_before(test)
        if test.status is TestStatus.BROKEN and before.get(test.node_id) == "failed"
        else test
        for test in judged
    ]
    for node in unreached:
        if before.get(node) == "passed":
            result.append(_unreached(node, outcomes_now[node]))
    for node, verdict in sorted(before.items()):
        module = node.split("::")[0]
        if module in unimportable and node not in reached and verdict == "passed":
            result.append(_found_by_running(node, IMPORT_FAILURE))
    if run.executed_by_test is None or not changed:
        return result
    listed = {test.node_id for test in result}
    watched_result = [_watched(test, executed, changed, found.traceable) for test in result]
    for node in sorted(executed.keys() - listed):
        ran = [code for code in changed if code.run_in(executed[node])]
        if ran and node in outcomes_now and not _fails(outcomes_now[node]):
            watched_result.append(_runs_changed_code(node, ran))
    if run.observed_by_test is None or base.observed is None:
        return watched_result
    behaviour = Behaviour(run.observed_by_test, base.observed, before)
    if unsure := behaviour.differing(compared):
        # the same code run again: what differs between the two runs is noise (a time,
        # a port), not the change
        again = _run_selected(sandbox, tree, unsure, watched, observe=True)
        behaviour = replace(behaviour, again=again.observed_by_test or {}, rerun=frozenset(unsure))
    comparable = set(compared)
    return [
        behaviour.compared(test, executed, changed, found.traceable)
        if test.node_id in comparable
        else test
        for test in watched_result
    ]


def _watched(
    test: ImpactedTest,
    executed: Mapping[str, Mapping[str, Collection[int]]],
    changed: Sequence[ChangedCode],
    traceable: bool,
) -> ImpactedTest:
    """The test with what it was seen to execute: the changed code it runs, or, when it
    passed running none of it and that is every change, unaffected."""
    hits = executed.get(test.node_id)
    if hits is None:
        return test  # not run (a module that no longer imports), or an inherited test
    ran = [code for code in changed if code.run_in(hits)]
    if ran:
        # what was seen running goes before what the run concluded
        static = tuple(r for r in test.reasons if r.kind != "run")
        ran_evidence = tuple(r for r in test.reasons if r.kind == "run")
        return replace(test, reasons=(*static, _executes(ran), *ran_evidence))
    if traceable and test.status is TestStatus.STALE:
        evidence = Evidence("run", "passed, and never runs the changed code")
        return replace(test, status=TestStatus.UNAFFECTED, reasons=(*test.reasons, evidence))
    return test


def _executes(ran: Sequence[ChangedCode]) -> Evidence:
    names = ", ".join(f"`{code.qualname}`" for code in ran[:3]) + (", …" if len(ran) > 3 else "")
    return Evidence("executes", f"runs the changed {names}")


def _runs_changed_code(node: str, ran: Sequence[ChangedCode]) -> ImpactedTest:
    path, _, rest = node.partition("::")
    evidence = (_executes(ran), Evidence("run", "passed"))
    # seen running the change, though nothing says it checks what changed
    return ImpactedTest(path, rest.replace("::", "."), TestStatus.UNAFFECTED, evidence, score=0.5)


def _fails(outcomes: Sequence[TestOutcome]) -> bool:
    return any(o.outcome in _FAILED and not o.flaky for o in outcomes)


@dataclass(frozen=True)
class _BaseRun:
    verdicts: dict[str, str]  # test node -> passed | failed | absent
    observed: Observations | None  # what the calls into the traced files did, by test


def _base_run(
    sandbox: Sandbox,
    tree: Path,
    selection: Sequence[str],
    trace: Sequence[str],
    observe: bool,
) -> _BaseRun:
    """passed | failed | absent over `tree`, for each selected node, and for every test of
    each selected module; and what the calls into the traced files did in them."""
    if not selection:
        return _BaseRun({}, None)
    run = _run_selected(sandbox, tree, selection, trace, observe=observe)
    outcomes_then = by_node(run)
    found = {}
    for node in {*selection, *outcomes_then}:
        outcomes = outcomes_then.get(node, [])
        if any(o.outcome in _FAILED for o in outcomes):
            found[node] = "failed"
        elif any(o.outcome in ("passed", "xpass") for o in outcomes):
            found[node] = "passed"
        else:
            found[node] = "absent"  # skipped, or not there before the change
    return _BaseRun(found, run.observed_by_test)


def _run_selected(
    sandbox: Sandbox, tree: Path, selection: Sequence[str], trace: Sequence[str], *, observe: bool
) -> TestRun:
    """One run, without reruns, of these test nodes and modules over `tree`."""
    arguments = [KEEP_GOING, *_selected(selection)]
    return run_outcome(sandbox, tree, arguments, rerun=False, trace=trace, observe=observe)


def _selected(selection: Sequence[str]) -> list[str]:
    """pytest's arguments for these test nodes and modules."""
    modules = {node for node in selection if "::" not in node}
    # pytest 8 runs only the node when given a module and a node id inside it (9 does not):
    # a module asked for whole is asked for only whole
    selected = sorted({n for n in selection if n.split("::")[0] not in modules} | modules)
    if len(selected) > MAX_NODE_IDS:
        selected = sorted({node.split("::")[0] for node in selected})
    return selected


def _failing_before(test: ImpactedTest) -> ImpactedTest:
    evidence = Evidence("run", "fails before the change too: not the change's doing")
    return replace(test, status=TestStatus.UNKNOWN, reasons=(*test.reasons, evidence))


def _unreached(node: str, outcomes: Sequence[TestOutcome]) -> ImpactedTest:
    first = next(o for o in outcomes if o.outcome in _FAILED)
    return _found_by_running(node, f"{first.outcome}: {failure_line(first)}")


def _found_by_running(node: str, failure: str) -> ImpactedTest:
    path, _, rest = node.partition("::")
    detail = f"{failure}; passes before the change, though no static link reaches it"
    # found by running it, not by any static link: as certain as evidence gets
    return ImpactedTest(
        path, rest.replace("::", "."), TestStatus.BROKEN, (Evidence("run", detail),), score=1.0
    )
