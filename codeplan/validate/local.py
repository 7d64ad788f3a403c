"""The local oracle: compile the changed files, run a type checker and the tests on this machine.

Problems the edits caused become diagnostics; only a check that cannot start at all (a
missing tool, a missing interpreter) raises `ValidationError`.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codeplan.errors import ValidationError
from codeplan.secrets import without_secrets
from codeplan.validate import parsers
from codeplan.validate.model import CheckResult, Diagnostic, Location, ValidationReport
from codeplan.validate.process import Completed, run_command
from codeplan.validate.settings import LocalOracleSettings, oracle_settings

__all__ = ["LocalOracle", "LocalOracleSettings", "oracle_settings"]

TAIL_LINES = 40
_PYTHON_NAMES = ("python", "python3")
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages", "build", "dist"})
_PROBE_SECONDS = 60.0


@dataclass(frozen=True)
class _Check:
    name: str  # also the diagnostics' `check`
    argv: tuple[str, ...]
    display: str  # the command as reported: what was configured, with the interpreter resolved


@dataclass
class _Outcome:
    checks: list[CheckResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class LocalOracle:
    def __init__(self, settings: LocalOracleSettings | None = None) -> None:
        self.settings = settings or LocalOracleSettings()

    def validate(self, root: Path, changed_paths: Sequence[str]) -> ValidationReport:
        root = root.resolve()
        outcome = _Outcome()
        if self.settings.compile_check:
            self._compile(root, changed_paths, outcome)
            if outcome.diagnostics:
                # tests and type checks of a tree that does not parse only restate the
                # syntax errors, slowly
                return ValidationReport(tuple(outcome.checks), tuple(outcome.diagnostics))
        with tempfile.TemporaryDirectory(prefix="codeplan-validate-") as scratch:
            env = self._environment()
            if self.settings.typecheck:
                self._typecheck(root, self.settings.typecheck, env, Path(scratch), outcome)
            test = self._test_command(root, env, Path(scratch))
            if test:
                self._test(root, test, env, Path(scratch), outcome)
        return ValidationReport(tuple(outcome.checks), tuple(outcome.diagnostics))

    # --- the checks --------------------------------------------------------------------

    def _compile(self, root: Path, changed_paths: Sequence[str], outcome: _Outcome) -> None:
        started = time.monotonic()
        checked = 0
        found: list[Diagnostic] = []
        for name in dict.fromkeys(changed_paths):
            path = root / name
            if path.suffix != ".py" or not path.is_file():
                continue
            relative = _relative(root, path)
            if relative is None:
                continue
            checked += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # SyntaxWarnings are not problems here
                    compile(path.read_bytes(), relative, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:
                found.append(_compile_diagnostic(relative, error))
        outcome.checks.append(
            CheckResult(
                name="compile",
                command=f"compile() on {checked} changed .py file(s)",
                exit_code=1 if found else 0,
                seconds=time.monotonic() - started,
                output_tail="\n".join(f"{d.locations[0].path}: {d.message}" for d in found),
            )
        )
        outcome.diagnostics.extend(found)

    def _typecheck(
        self, root: Path, command: str, env: dict[str, str], scratch: Path, outcome: _Outcome
    ) -> None:
        argv = self._argv(command)
        tool = parsers.tool_name(argv)
        check = _Check(tool or "typecheck", argv, shlex.join(argv))
        done = self._run(root, check, env, scratch, outcome)
        if done.timed_out:
            outcome.diagnostics.append(_timeout(root, check, done, self.settings.timeout_seconds))
            return
        if done.exit_code == 0:
            return
        if tool and parsers.missing_module(done.output, tool):
            raise ValidationError(f"{check.display}: the interpreter has no module {tool}")
        errors = parsers.parse_typecheck(done.output)
        for error in errors:
            location = _location(root, parsers.Frame(error.path, error.line))
            locations = (location,) if location else ()
            outcome.diagnostics.append(Diagnostic(check.name, error.message, locations))
        if not errors:
            outcome.diagnostics.append(_exit_diagnostic(root, check, done, pytest_style=False))

    def _test(
        self, root: Path, check: _Check, env: dict[str, str], scratch: Path, outcome: _Outcome
    ) -> None:
        pytest_at = parsers.pytest_position(check.argv)
        junit = scratch / "junit.xml"
        argv = check.argv
        if pytest_at is not None:
            # xunit1 reports carry each test's file and line; the cache would write into root
            extra = (f"--junitxml={junit}", "-o", "junit_family=xunit1", "-p", "no:cacheprovider")
            argv = argv[: pytest_at + 1] + extra + argv[pytest_at + 1 :]
        done = self._run(root, _Check(check.name, argv, check.display), env, scratch, outcome)
        if pytest_at is None:
            if done.timed_out:
                outcome.diagnostics.append(
                    _timeout(root, check, done, self.settings.timeout_seconds)
                )
            elif done.exit_code != 0:
                outcome.diagnostics.append(_exit_diagnostic(root, check, done, pytest_style=False))
            return
        failures = _read_junit(junit)
        outcome.diagnostics.extend(_test_diagnostic(root, check, failure) for failure in failures)
        if done.timed_out:
            outcome.diagnostics.append(_timeout(root, check, done, self.settings.timeout_seconds))
        elif done.exit_code not in (0, 5) and not failures:  # 5: no tests collected
            if not junit.exists() and parsers.missing_module(done.output, "pytest"):
                raise ValidationError(f"{check.display}: the interpreter has no module pytest")
            outcome.diagnostics.append(_exit_diagnostic(root, check, done, pytest_style=True))

    # --- commands -----------------------------------------------------------------------

    def _test_command(self, root: Path, env: dict[str, str], scratch: Path) -> _Check | None:
        command = self.settings.test
        if not command:
            return None
        if command.strip() != "auto":
            argv = self._argv(command)
            return _Check("tests", argv, shlex.join(argv))
        if not _has_tests(root):
            return None
        probe = (self.settings.python, "-c", "import pytest")
        if run_command(probe, root, env, _PROBE_SECONDS, scratch).exit_code != 0:
            return None
        argv = (self.settings.python, "-m", "pytest")
        return _Check("tests", argv, shlex.join(argv))

    def _argv(self, command: str) -> tuple[str, ...]:
        argv = shlex.split(command)
        if not argv:
            raise ValidationError(f"empty command {command!r}")
        if argv[0] in _PYTHON_NAMES:
            # the interpreter the settings name, not whichever `python` is first on PATH
            argv[0] = self.settings.python
        return tuple(argv)

    def _environment(self) -> dict[str, str]:
        env = without_secrets(os.environ)
        bin_dir = os.path.dirname(self.settings.python)
        if bin_dir:
            # like an activated virtualenv: `pytest`, `mypy` resolve next to the interpreter
            env["PATH"] = os.pathsep.join(p for p in (bin_dir, env.get("PATH", "")) if p)
        env.update(self.settings.env)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def _run(
        self, root: Path, check: _Check, env: dict[str, str], scratch: Path, outcome: _Outcome
    ) -> Completed:
        done = run_command(check.argv, root, env, self.settings.timeout_seconds, scratch)
        done = dataclasses.replace(done, output=parsers.strip_ansi(done.output))
        outcome.checks.append(
            CheckResult(
                name=check.name,
                command=check.display,
                exit_code=done.exit_code,
                seconds=done.seconds,
                output_tail=_tail(done.output),
            )
        )
        return done


# --- diagnostics ----------------------------------------------------------------------------


def _compile_diagnostic(relative: str, error: SyntaxError | ValueError) -> Diagnostic:
    if isinstance(error, SyntaxError):
        message = f"{type(error).__name__}: {error.msg}"
        line = error.lineno or 1
    else:  # null bytes in the source, before Python 3.12
        message, line = f"ValueError: {error}", 1
    return Diagnostic("compile", message, (Location(relative, line),))


def _test_diagnostic(root: Path, check: _Check, failure: parsers.TestFailure) -> Diagnostic:
    file = _location(root, parsers.Frame(failure.file, 1)) if failure.file else None
    path = file.path if file else failure.file
    parts = [p for p in (path, *failure.classes, failure.name) if p]
    own = _location(root, failure.location) if failure.location else None
    locations = _order(_locations(root, reversed(failure.frames)), own)
    return Diagnostic(check.name, failure.message, locations, test_id="::".join(parts))


def _timeout(root: Path, check: _Check, done: Completed, seconds: float) -> Diagnostic:
    # pytest and Python print where an interrupt found them: that is where the loop is
    frames = parsers.traceback_frames(done.output)
    message = f"timed out after {seconds:g} s\n{check.display}\n{_tail(done.output)}".rstrip()
    return Diagnostic(check.name, message, _order(_locations(root, reversed(frames)), None))


def _exit_diagnostic(
    root: Path, check: _Check, done: Completed, *, pytest_style: bool
) -> Diagnostic:
    # the first line is stable across runs so that a baseline recognises it
    lines = [f"{check.display} exited with code {done.exit_code}"]
    exception = parsers.exception_line(done.output)
    if exception:
        lines.append(exception)
    lines.append(_tail(done.output))
    frames = parsers.traceback_frames(done.output, pytest_style=pytest_style)
    locations = _order(_locations(root, reversed(frames)), None)
    return Diagnostic(check.name, "\n".join(lines).rstrip(), locations)


def _locations(root: Path, frames: Iterable[parsers.Frame]) -> list[Location]:
    found = (_location(root, frame) for frame in frames)
    return list(dict.fromkeys(location for location in found if location))


def _order(locations: list[Location], own: Location | None) -> tuple[Location, ...]:
    """The repository's code before the tests (stable), then the test function itself."""
    ordered = [loc for loc in locations if not parsers.is_test_path(loc.path)]
    ordered += [loc for loc in locations if parsers.is_test_path(loc.path)]
    if own and own not in ordered:
        ordered.append(own)
    return tuple(ordered)


def _location(root: Path, frame: parsers.Frame) -> Location | None:
    """The frame as a Location relative to `root` (resolved), or None outside it."""
    path = Path(frame.path)
    full = path if path.is_absolute() else root / path
    relative = _relative(root, full)
    if relative is None or not full.is_file():
        return None
    return Location(relative, frame.line)


def _relative(root: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None


def _read_junit(path: Path) -> list[parsers.TestFailure]:
    try:
        return parsers.parse_junit(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        # no report (pytest stopped before writing it): the exit code and output tell
        return []


def _tail(output: str) -> str:
    return "\n".join(output.rstrip().splitlines()[-TAIL_LINES:])


# --- commands -------------------------------------------------------------------------------


def _has_tests(root: Path) -> bool:
    if (root / "tests").is_dir() or (root / "test").is_dir():
        return True
    for _, folders, files in os.walk(root):
        folders[:] = [f for f in folders if not f.startswith(".") and f not in _SKIPPED_DIRS]
        if any(parsers.is_test_file(name) for name in files):
            return True
    return False
