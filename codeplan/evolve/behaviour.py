"""Did the changed files answer a passing test otherwise than before the change?

The sweep's runs observe the changed files from outside (codeplan/sandbox/trace.py): what
each call into them from a test, a fixture or other code returned or raised.  Comparing
a test's observations over the changed tree with those over the base tree tells:

- they differ ("behaves"): the test passes, yet what it exercises changed under it, so
  it is stale;
- they agree, and answers are all a caller can see of each changed function it ran (no
  I/O or global state changed, `ChangedCode.comparable`): it saw nothing of the change,
  and is unaffected;
- otherwise nothing more is known.

Some answers differ from run to run whatever the code (a time, a port, a generated id).
So the tests whose answers differ run once more over the changed tree, and an answer that
differs between those two runs is noise: it neither makes a test stale nor lets it count
as unaffected.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from codeplan.evolve.model import ChangedCode, Evidence, ImpactedTest, TestStatus
from codeplan.sandbox.trace import Observed

Observations = Mapping[str, Mapping[str, Observed]]  # test id -> entry function -> calls
UNCHANGED_ANSWERS = "passed; the changed files answered its calls as before the change"


@dataclass(frozen=True)
class Behaviour:
    """What the calls into the changed files did in each test, over the changed tree
    (`now`, and `again` for the test nodes `rerun` there) and over the base tree
    (`before`, whose run gave the tests' `verdicts` there)."""

    now: Observations
    before: Observations
    verdicts: Mapping[str, str]
    again: Observations = field(default_factory=dict)
    rerun: frozenset[str] = frozenset()
    cases: dict[str, list[str]] = field(init=False)  # test node -> its cases' ids

    def __post_init__(self) -> None:
        cases: dict[str, list[str]] = {}
        for case in sorted({*self.now, *self.before}):
            cases.setdefault(case.split("[", 1)[0], []).append(case)
        object.__setattr__(self, "cases", cases)

    def differing(self, nodes: Collection[str]) -> list[str]:
        """The test nodes, passing over both trees, whose answers differ."""
        return sorted(
            node
            for node in nodes
            if self.verdicts.get(node) == "passed" and self._differences(node)
        )

    def compared(
        self,
        test: ImpactedTest,
        executed: Mapping[str, Mapping[str, Collection[int]]],
        changed: Sequence[ChangedCode],
        traceable: bool,
    ) -> ImpactedTest:
        """The passing test, stale when the changed files answered it otherwise than
        before the change, unaffected when they answered alike and that is all it can
        show (see the module's docstring)."""
        if test.status not in (TestStatus.STALE, TestStatus.UNAFFECTED):
            return test
        if self.verdicts.get(test.node_id) != "passed":
            return test  # no run before the change to compare with
        noisy = self._noisy(test.node_id)
        differences = [
            (key, how) for key, how in self._differences(test.node_id) if key not in noisy
        ]
        if differences:
            key, how = differences[0]
            more = f" (and {len(differences) - 1} more)" if len(differences) > 1 else ""
            qualname = key.split("::", 1)[-1]
            detail = f"passed, but `{qualname}` {how} before the change{more}"
            evidence = Evidence("behaves", detail)
            return replace(test, status=TestStatus.STALE, reasons=(*test.reasons, evidence))
        ran = [code for code in changed if code.run_in(executed.get(test.node_id, {}))]
        if not noisy and ran and traceable and all(code.comparable for code in ran):
            evidence = Evidence("run", UNCHANGED_ANSWERS)
            return replace(test, status=TestStatus.UNAFFECTED, reasons=(*test.reasons, evidence))
        return test

    def _differences(self, node: str) -> list[tuple[str, str]]:
        """(function, how) for each function of the changed files the test called whose
        calls went otherwise than before the change."""
        return [
            difference
            for case in self.cases.get(node, ())
            for difference in _compared(self.now.get(case, {}), self.before.get(case, {}))
        ]

    def _noisy(self, node: str) -> set[str]:
        """The functions whose answers to the test differed between two runs of the same
        code."""
        if node not in self.rerun:
            return set()
        return {
            key
            for case in self.cases.get(node, ())
            for key, _ in _compared(self.now.get(case, {}), self.again.get(case, {}))
        }


def _compared(now: Mapping[str, Observed], before: Mapping[str, Observed]) -> list[tuple[str, str]]:
    found = []
    for key in sorted(now.keys() | before.keys()):
        mine, theirs = now.get(key), before.get(key)
        if mine is None:
            found.append((key, "is not called any more, where it was called"))
        elif theirs is None:
            found.append((key, "is called, where it was not called"))
        elif (difference := mine.differs(theirs)) is not None:
            found.append((key, difference))
    return found
