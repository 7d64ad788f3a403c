"""What running the impacted tests says, and which tests assert on what changed.

Dynamic verdicts (`run_impacted`): failed or error is BROKEN; passed is STALE when the
test asserts on what a changed block returns or raises and that changed (the "asserts"
evidence: the test calls the block directly, inside an `assert`, a `self.assert*(...)`
call, a `with pytest.raises(...)` block, or assigns the call's result to a name an
`assert` then reads; and the change is labelled returns-, raises- or yields-changed or
default-changed), UNAFFECTED otherwise; a test with no outcome stays UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from tree_sitter import Node

from codeplan.errors import SandboxError
from codeplan.evolve.model import Evidence, ImpactedTest, TestStatus
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, Relation
from codeplan.graph.python import parse_python
from codeplan.graph.python.exprs import text
from codeplan.impact.analysis import ClassifiedChange
from codeplan.impact.classify import ChangeLabel
from codeplan.sandbox.model import TestOutcome, TestRun
from codeplan.sandbox.session import Sandbox
from codeplan.sandbox.trace import Lines

OBSERVED = {
    ChangeLabel.RETURNS_CHANGED,
    ChangeLabel.RAISES_CHANGED,
    ChangeLabel.YIELDS_CHANGED,
    ChangeLabel.DEFAULT_CHANGED,
}
MAX_NODE_IDS = 400  # beyond this, run whole test files (one shell argument has a size limit)


def asserts(
    graph: CodeGraph,
    test: Block,
    observed: Sequence[ClassifiedChange],
    trees: dict[str, Node],
    sources: Mapping[str, bytes],
) -> Evidence | None:
    """The "asserts" evidence, when the test asserts directly on a changed block whose
    return value, exceptions or defaults changed (see the module's docstring)."""
    direct = {r.block.id for r in graph.related(test.id, (Relation.CALLS, Relation.INSTANTIATES))}
    for item in observed:
        block = item.change.block
        target = graph.get(block.parent or "") if block.name == "__init__" else block
        if target is None or target.id not in direct:
            continue
        if test.path not in trees:
            trees[test.path] = parse_python(sources[test.path]).root_node
        function = trees[test.path].descendant_for_byte_range(test.start_byte, test.end_byte)
        if function is not None and _asserted_call(function, target.name):
            labels = ", ".join(label.value for label in item.labels if label in OBSERVED)
            detail = (
                f"asserts on what `{block.qualname}` returns or raises, which changed ({labels})"
            )
            return Evidence("asserts", detail)
    return None


def _asserted_call(function: Node, name: str) -> bool:
    asserts = [n for n in _descendants(function) if n.type == "assert_statement"]
    asserted = {text(n) for a in asserts for n in _descendants(a) if n.type == "identifier"}
    for call in _descendants(function):
        if call.type != "call" or _callee(call) != name:
            continue
        node = call.parent
        while node is not None and node.id != function.id:
            if node.type == "assert_statement" or (
                node.type == "call" and _callee(node).startswith("assert")
            ):
                return True
            if node.type == "with_statement" and any(
                _callee(c).endswith(("raises", "Raises", "warns", "Warns"))
                for c in _descendants(node.children[1])
                if c.type == "call"
            ):
                return True
            left = node.child_by_field_name("left") if node.type == "assignment" else None
            if left is not None and left.type == "identifier" and text(left) in asserted:
                return True
            node = node.parent
    return False


def _callee(call: Node) -> str:
    function = call.child_by_field_name("function")
    if function is not None and function.type == "attribute":
        function = function.child_by_field_name("attribute")
    return text(function) if function is not None else ""


def _descendants(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.named_children)


def run_impacted(tests: Sequence[ImpactedTest], sandbox: Sandbox, tree: Path) -> list[ImpactedTest]:
    """Run the tests once in the sandbox over the changed `tree`; each gets its verdict and
    the "run" evidence."""
    if not tests:
        return []
    selected = sorted({t.node_id for t in tests})
    if len(selected) > MAX_NODE_IDS:
        selected = sorted({t.path for t in tests})
    run = run_outcome(sandbox, tree, selected)
    # a module that fails to import stops pytest before anything runs: its tests are
    # broken, and the others are run again without it
    unimportable = unimportable_modules(run)
    if unimportable:
        rest = [n for n in selected if n.split("::")[0] not in unimportable]
        run = run_outcome(sandbox, tree, rest) if rest else run
    missing = "the run timed out" if run.timed_out else "not collected"
    return judge(tests, by_node(run), unimportable, missing)


COLLECTION_FAILURE = "collection failure"  # pytest's JUnit message for a module import error
IMPORT_FAILURE = "error: its test module fails to import on the changed code"


def run_outcome(
    sandbox: Sandbox,
    tree: Path,
    selected: Sequence[str],
    *,
    rerun: bool = True,
    trace: Sequence[str] = (),
    observe: bool = False,
) -> TestRun:
    """The sandbox's test run over `tree` (an engine that failed is an error, not a run)."""
    run = sandbox.run_tests(tree, selected, rerun_failures=rerun, trace=trace, observe=observe)
    if run.infrastructure_error:
        raise SandboxError(run.infrastructure_error)
    return run


def by_node(run: TestRun) -> dict[str, list[TestOutcome]]:
    """The run's outcomes by test node id (a parametrized test's cases share one)."""
    outcomes: dict[str, list[TestOutcome]] = {}
    for outcome in run.tests:
        outcomes.setdefault(outcome.id.split("[", 1)[0], []).append(outcome)
    return outcomes


def executed_by_node(executed: Mapping[str, Lines]) -> dict[str, dict[str, set[int]]]:
    """A traced run's executed lines by test node id (a parametrized test's cases
    together)."""
    merged: dict[str, dict[str, set[int]]] = {}
    for node, hits in executed.items():
        into = merged.setdefault(node.split("[", 1)[0], {})
        for path, lines in hits.items():
            into.setdefault(path, set()).update(lines)
    return merged


def unimportable_modules(run: TestRun) -> set[str]:
    """The test modules the run could not import."""
    return {o.id.split("::")[0] for o in run.tests if o.message == COLLECTION_FAILURE}


def judge(
    tests: Sequence[ImpactedTest],
    outcomes: Mapping[str, Sequence[TestOutcome]],
    unimportable: set[str],
    missing: str,
) -> list[ImpactedTest]:
    """Each test with its verdict from a run's outcomes by node id (`missing`: why a test
    has none); a test of a module that no longer imports is broken."""
    return [
        replace(t, status=TestStatus.BROKEN, reasons=(*t.reasons, Evidence("run", IMPORT_FAILURE)))
        if t.path in unimportable
        else _verdict(t, outcomes.get(t.node_id, []), missing)
        for t in tests
    ]


def failure_line(outcome: TestOutcome) -> str:
    """The first line of a failed test's message."""
    return (outcome.message.strip().splitlines() or ["(no message)"])[0]


def _verdict(test: ImpactedTest, outcomes: Sequence[TestOutcome], missing: str) -> ImpactedTest:
    failed = [o for o in outcomes if o.outcome in ("failed", "error") and not o.flaky]
    passed = [o for o in outcomes if o.outcome in ("passed", "xpass")]
    if failed:
        status, detail = TestStatus.BROKEN, f"{failed[0].outcome}: {failure_line(failed[0])}"
    elif any(o.flaky for o in outcomes):
        status, detail = TestStatus.UNKNOWN, "flaky: failed, then passed when run again"
    elif not passed:
        status, detail = TestStatus.UNKNOWN, "skipped" if outcomes else missing
    elif any(r.kind == "asserts" for r in test.reasons):
        status, detail = TestStatus.STALE, "passed, but asserts on behaviour the change altered"
    else:
        status, detail = TestStatus.UNAFFECTED, "passed"
    return replace(test, status=status, reasons=(*test.reasons, Evidence("run", detail)))
