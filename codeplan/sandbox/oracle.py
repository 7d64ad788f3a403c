"""The sandboxed oracle: changed files must compile, then the tests the dependency graph
links to the changed code run first in the sandbox, then the whole suite.  Flaky tests
(failing once, passing on the rerun) do not count; a broken environment stops the run
(`ValidationError`) instead of being blamed on the edit."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path

from codeplan.errors import ValidationError
from codeplan.graph import GraphOptions, Relation, build_graph
from codeplan.graph.codegraph import CodeGraph
from codeplan.impact.analysis import is_test
from codeplan.sandbox.model import TestRun
from codeplan.sandbox.results import failure_diagnostics
from codeplan.sandbox.session import Sandbox
from codeplan.validate.local import LocalOracle
from codeplan.validate.model import CheckResult, Diagnostic, ValidationReport
from codeplan.validate.settings import LocalOracleSettings

_TOWARDS_TESTS = (Relation.CALLS, Relation.INSTANTIATES, Relation.USES, Relation.IMPORTS)


class SandboxOracle:
    def __init__(self, sandbox: Sandbox, *, select_tests: bool = True, max_depth: int = 3) -> None:
        self.sandbox = sandbox
        self.select_tests = select_tests
        self.max_depth = max_depth
        # the compile check is the host oracle's, with no type check and no tests
        self._compile = LocalOracle(LocalOracleSettings(typecheck=None, test=None))

    def validate(self, root: Path, changed_paths: Sequence[str]) -> ValidationReport:
        compiled = self._compile.validate(root, changed_paths)
        if not compiled.ok:
            return compiled
        checks = list(compiled.checks)
        selected = self._linked_tests(root, changed_paths) if self.select_tests else []
        if selected:
            first = self._run(root, selected, checks, "linked tests")
            if first:
                return ValidationReport(tuple(checks), tuple(first))
        return ValidationReport(tuple(checks), tuple(self._run(root, [], checks, "tests")))

    def _run(
        self, root: Path, test_ids: Sequence[str], checks: list[CheckResult], name: str
    ) -> list[Diagnostic]:
        run = self.sandbox.run_tests(root, test_ids)
        checks.append(
            CheckResult(
                name,
                self.sandbox.spec.environment.test,
                run.exit_code,
                run.duration_s,
                run.output_tail,
            )
        )
        if run.infrastructure_error:
            raise ValidationError(run.infrastructure_error)
        if run.timed_out:
            seconds = self.sandbox.spec.limits.timeout_seconds
            return [Diagnostic("tests", f"the tests timed out after {seconds:g} s")]
        return _diagnostics(run, root)

    def _linked_tests(self, root: Path, changed_paths: Sequence[str]) -> list[str]:
        graph = build_graph(root, GraphOptions()).graph
        return linked_tests(graph, changed_paths, self.max_depth)


def linked_tests(graph: CodeGraph, changed_paths: Sequence[str], max_depth: int = 3) -> list[str]:
    """pytest node ids of the tests that reach the changed files' blocks through calls,
    instantiations, field uses or imports, within `max_depth` steps."""
    start = [b for path in changed_paths for b in graph.blocks_in(path)]
    seen = {b.id for b in start}
    queue = deque((b, 0) for b in start)
    found: set[str] = set()
    while queue:
        block, depth = queue.popleft()
        if is_test(block, graph) and block.name.startswith("test"):  # fixtures: go on
            found.add(block.path + "::" + block.qualname.replace(".", "::"))
            continue
        if depth == max_depth:
            continue
        for related in graph.related(block.id, _TOWARDS_TESTS, inverse=True):
            if related.block.id not in seen:
                seen.add(related.block.id)
                queue.append((related.block, depth + 1))
    return sorted(found)


def _diagnostics(run: TestRun, root: Path) -> list[Diagnostic]:
    flaky = {t.id for t in run.tests if t.flaky}
    found = [d for d in failure_diagnostics(run.junit, root) if d.test_id not in flaky]
    if not found and run.exit_code not in (0, 5) and not run.tests:
        found.append(
            Diagnostic("tests", f"the test command exited with {run.exit_code}:\n{run.output_tail}")
        )
    return found
