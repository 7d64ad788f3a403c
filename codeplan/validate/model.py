"""The oracle boundary: a validation of a tree, and the problems it found.

An oracle failing to *run* (a missing tool, a broken environment) raises
`ValidationError`; problems in the code are a `ValidationReport`'s diagnostics.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Location:
    path: str  # relative to the validated root, "/"-separated
    line: int  # 1-based


@dataclass(frozen=True)
class Diagnostic:
    check: str  # which check found it: "compile", "mypy", "pyright", "tests"...
    message: str
    # where the problem shows, most relevant first (for a failing test: the innermost
    # frame in the repository's own code, ..., the test function)
    locations: tuple[Location, ...] = ()
    test_id: str | None = None  # "tests/test_x.py::test_y" for a test failure

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity across runs, insensitive to line shifts: pre-existing problems (the
        baseline) are recognised by it."""
        where = self.test_id or (self.locations[0].path if self.locations else "")
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return (self.check, where, first_line)


@dataclass(frozen=True)
class CheckResult:
    name: str
    command: str
    exit_code: int
    seconds: float
    output_tail: str  # the last lines of its output, for reports


@dataclass(frozen=True)
class ValidationReport:
    checks: tuple[CheckResult, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    def new_since(self, baseline: ValidationReport) -> ValidationReport:
        """Only the diagnostics the baseline did not already have."""
        return self.without({d.key for d in baseline.diagnostics})

    def without(self, known: Collection[tuple[str, str, str]]) -> ValidationReport:
        """Without the diagnostics whose keys are `known` (a stored baseline's keys)."""
        return ValidationReport(
            self.checks, tuple(d for d in self.diagnostics if d.key not in known)
        )


class Oracle(Protocol):
    def validate(self, root: Path, changed_paths: Sequence[str]) -> ValidationReport:
        """Validate the tree at `root`; `changed_paths` lets cheap checks focus."""
        ...
