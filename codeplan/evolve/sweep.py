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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from codeplan.evolve.model import Evidence, ImpactedTest, TestStatus
from codeplan.evolve.verdict import (
    COLLECTION_FAILURE,
    MAX_NODE_IDS,
    broken_on_import,
    run_impacted,
    run_outcome,
    verdict_from,
)
from codeplan.sandbox.backends import runs_pytest
from codeplan.sandbox.model import TestOutcome, TestRun
from codeplan.sandbox.session import Sandbox

KEEP_GOING = "--continue-on-collection-errors"  # one module that fails to import stops no other
_FAILED = ("failed", "error")


def sweep_suite(
    tests: Sequence[ImpactedTest], sandbox: Sandbox, tree: Path, base_tree: Path
) -> list[ImpactedTest]:
    """`tests` with their verdicts from a whole-suite run over `tree`, followed by the
    tests no static evidence reached that fail over `tree` and pass over `base_tree`."""
    if not runs_pytest(sandbox.spec):
        return run_impacted(tests, sandbox, tree)  # no per-test outcomes to sweep with
    run = run_outcome(sandbox, tree, [KEEP_GOING])
    if run.timed_out:
        # a suite too slow for the sandbox's time limit: the tests found still get verdicts
        return run_impacted(tests, sandbox, tree)
    by_node = _by_node(run)
    unimportable = {o.id.split("::")[0] for o in run.tests if o.message == COLLECTION_FAILURE}
    judged = [
        broken_on_import(test)
        if test.path in unimportable
        else verdict_from(test, by_node, "not collected")
        for test in tests
    ]
    reached = {test.node_id for test in tests}
    unreached = sorted(
        node
        for node, outcomes in by_node.items()
        if node not in reached
        and _fails(outcomes)
        and not any(o.message == COLLECTION_FAILURE for o in outcomes)  # a module, not a test
    )
    suspects = [*unreached, *(t.node_id for t in judged if t.status is TestStatus.BROKEN)]
    # a module that no longer imports lists none of its tests: the base tree's run does
    before = _outcomes(sandbox, base_tree, [*suspects, *sorted(unimportable)])
    result = [
        _failing_before(test)
        if test.status is TestStatus.BROKEN and before.get(test.node_id) == "failed"
        else test
        for test in judged
    ]
    for node in unreached:
        if before.get(node) == "passed":
            result.append(_unreached(node, by_node[node]))
    for node, verdict in sorted(before.items()):
        module = node.split("::")[0]
        if module in unimportable and node not in reached and verdict == "passed":
            result.append(_unreached_unimportable(node))
    return result


def _by_node(run: TestRun) -> dict[str, list[TestOutcome]]:
    outcomes: dict[str, list[TestOutcome]] = {}
    for outcome in run.tests:  # a parametrized test's cases share its node id
        outcomes.setdefault(outcome.id.split("[", 1)[0], []).append(outcome)
    return outcomes


def _fails(outcomes: Sequence[TestOutcome]) -> bool:
    return any(o.outcome in _FAILED and not o.flaky for o in outcomes)


def _outcomes(sandbox: Sandbox, tree: Path, selection: Sequence[str]) -> dict[str, str]:
    """passed | failed | absent over `tree`, for each selected node, and for every test of
    each selected module."""
    if not selection:
        return {}
    modules = {node for node in selection if "::" not in node}
    # pytest drops a path given after a node id inside it as a duplicate: a module asked
    # for whole is asked for only whole
    selected = sorted({n for n in selection if n.split("::")[0] not in modules} | modules)
    if len(selected) > MAX_NODE_IDS:
        selected = sorted({node.split("::")[0] for node in selected})
    by_node = _by_node(run_outcome(sandbox, tree, [KEEP_GOING, *selected], rerun=False))
    found = {}
    for node in {*selection, *by_node}:
        outcomes = by_node.get(node, [])
        if any(o.outcome in _FAILED for o in outcomes):
            found[node] = "failed"
        elif any(o.outcome in ("passed", "xpass") for o in outcomes):
            found[node] = "passed"
        else:
            found[node] = "absent"  # skipped, or not there before the change
    return found


def _failing_before(test: ImpactedTest) -> ImpactedTest:
    evidence = Evidence("run", "fails before the change too: not the change's doing")
    return replace(test, status=TestStatus.UNKNOWN, reasons=(*test.reasons, evidence))


def _unreached(node: str, outcomes: Sequence[TestOutcome]) -> ImpactedTest:
    first = next(o for o in outcomes if o.outcome in _FAILED)
    line = (first.message.strip().splitlines() or ["(no message)"])[0]
    return _found_by_running(node, f"{first.outcome}: {line}")


def _unreached_unimportable(node: str) -> ImpactedTest:
    return _found_by_running(node, "error: its test module fails to import on the changed code")


def _found_by_running(node: str, failure: str) -> ImpactedTest:
    path, _, rest = node.partition("::")
    detail = f"{failure}; passes before the change, though no static link reaches it"
    # found by running it, not by any static link: as certain as evidence gets
    return ImpactedTest(
        path, rest.replace("::", "."), TestStatus.BROKEN, (Evidence("run", detail),), score=1.0
    )
