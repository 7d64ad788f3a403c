"""Test co-evolution's vocabulary (REACCEPT's approach, made practical): which tests a
production change makes obsolete, and past production/test co-changes to learn from."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum

from codeplan.edit.model import EarlierEdit
from codeplan.graph.codegraph import CodeGraph


class TestStatus(str, Enum):
    __test__ = False  # not a pytest test class, despite the name
    BROKEN = "broken"  # fails on the changed tree
    STALE = "stale"  # passes, but asserts on behaviour the change altered
    UNAFFECTED = "unaffected"
    UNKNOWN = "unknown"  # linked statically, not run (or could not be run)


@dataclass(frozen=True)
class Evidence:
    kind: str  # "calls" | "helper" | "naming" | "history" | "run"
    detail: str  # one sentence: "calls `price_with_tax` through `make_order` (2 steps)"


@dataclass(frozen=True)
class ImpactedTest:
    path: str
    qualname: str  # "test_x" or "TestY.test_x"
    status: TestStatus
    reasons: tuple[Evidence, ...]
    score: float = 0.0  # ranking confidence, higher first

    @property
    def block_id(self) -> str:
        """The id of the block that is this test (an inherited test has none of its own)."""
        return f"{self.path}::{self.qualname}"

    @property
    def node_id(self) -> str:
        """pytest's id: path::Class::test."""
        return self.path + "::" + self.qualname.replace(".", "::")


@dataclass(frozen=True)
class ChangedCode:
    """A changed function or method as it is now: a test that runs it runs the change."""

    path: str
    qualname: str
    start_line: int
    end_line: int
    # it was there before, under the same name, and what it returns, raises and does to
    # its arguments is all a caller can see of the change (no I/O or global state changed):
    # a test in which its calls went as before the change saw none of it
    comparable: bool = False

    def run_in(self, executed: Mapping[str, Collection[int]]) -> bool:
        """Whether a test that executed these lines (path -> line numbers) ran it."""
        lines = executed.get(self.path, ())
        return any(self.start_line <= line <= self.end_line for line in lines)


@dataclass(frozen=True)
class Identified:
    """What static identification found: the tests, best first, and the changed code a
    run can watch them execute."""

    tests: list[ImpactedTest]
    changed: tuple[ChangedCode, ...] = ()
    # every runtime change is in `changed` (no field, class body, import or deleted
    # block): a test that runs none of it runs the code as it was before the change
    traceable: bool = False
    graph: CodeGraph | None = None  # of the changed state, where the tests are found


@dataclass(frozen=True)
class Experience:
    """One past co-change: a production block and a test block changed in one commit."""

    commit: str
    message: str
    production_path: str
    production_qualname: str
    production_before: str
    production_after: str
    test_path: str
    test_qualname: str
    test_before: str
    test_after: str


@dataclass(frozen=True)
class ProductionChange:
    """A production block's edit, shown to the editor of a test that depends on it."""

    path: str
    qualname: str
    before: str
    after: str

    @property
    def removed(self) -> bool:
        """The change deleted the block: what it did is gone."""
        return not self.after.strip()

    def as_earlier_edit(self) -> EarlierEdit:
        """The change as the editor of a test that depends on it sees it."""
        return EarlierEdit(
            self.path, self.qualname, self.before, self.after, "the production change"
        )

    @property
    def deprecates(self) -> bool:
        """The change deprecates the block (a warning or decorator saying so appeared):
        tests are expected to move away from it."""
        return "deprecat" in self.after.lower() and "deprecat" not in self.before.lower()
