"""Pure parsers of the tools' output (type checkers' error lines, JUnit XML, traceback
frames) and of the command lines and paths that decide how that output is read.

Paths are returned as the tools printed them; making them relative to the validated root
needs the file system, so it is left to the caller.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    path: str  # as printed: relative to the tool's working directory, or absolute
    line: int  # 1-based


@dataclass(frozen=True)
class ToolError:
    """One error line of a type checker."""

    path: str
    line: int
    message: str


@dataclass(frozen=True)
class TestFailure:
    """One failing (or erroring) testcase of a JUnit report."""

    __test__ = False  # not a pytest test class despite its name

    file: str | None  # relative to pytest's rootdir
    classes: tuple[str, ...]  # enclosing test classes, outermost first
    name: str  # the test function's name, or "" for a module that failed to collect
    message: str
    frames: tuple[Frame, ...]  # the traceback's frames, outermost first
    location: Frame | None  # the test function's own definition


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# mypy's "path:line: error: ..." or "path:line:col[:endline:endcol]: error: ..."
_MYPY = re.compile(r"^(?P<path>[^:\n]+?):(?P<line>\d+):(?:\d+:)*\s*error:\s*(?P<message>.+)$")
# pyright: "  /abs/path.py:12:5 - error: ...", its explanation on further indented lines
_PYRIGHT = re.compile(
    r"^\s*(?P<path>\S[^\n]*?):(?P<line>\d+):\d+ - (?P<severity>error|warning|information):"
    r"\s*(?P<message>.*)$"
)
# pytest's long/short/line tracebacks: "pkg/mod.py:12: in func", "pkg/mod.py:12: ValueError";
# paths with spaces are not recognised, which keeps source lines from passing for frames
_PYTEST_FRAME = re.compile(r"^(?P<path>[^\s:<>\"'][^\s:<>\"']*):(?P<line>\d+):(?:\s|$)")
# Python's own tracebacks (and pytest's --tb=native, and SyntaxError displays)
_PYTHON_FRAME = re.compile(r"File \"(?P<path>[^\"]+)\", line (?P<line>\d+)")
# what pytest prints before an exception's lines: "E   ValueError: ..."
_EXCEPTION_LINE = re.compile(r"^E\s+(?P<text>\S.*)$")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def parse_typecheck(output: str) -> list[ToolError]:
    """The errors of a mypy or pyright run (notes, warnings and summaries ignored)."""
    errors: list[ToolError] = []
    lines = output.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        pyright = _PYRIGHT.match(line)
        if pyright:
            message = [pyright["message"].strip()]
            # pyright indents its explanation deeper (with no-break spaces) than the error
            while index < len(lines) and _is_continuation(lines[index]):
                message.append(lines[index].strip())
                index += 1
            if pyright["severity"] == "error":
                errors.append(
                    ToolError(pyright["path"].strip(), int(pyright["line"]), "\n".join(message))
                )
            continue
        mypy = _MYPY.match(line)
        if mypy:
            errors.append(ToolError(mypy["path"], int(mypy["line"]), mypy["message"].strip()))
    return errors


def _is_continuation(line: str) -> bool:
    return line[:1].isspace() and bool(line.strip()) and not _PYRIGHT.match(line)


def traceback_frames(text: str, *, pytest_style: bool = True) -> list[Frame]:
    """The `path:line:` (pytest) and `File "path", line N` (Python) frames, in text order
    (outermost first for one exception)."""
    frames: list[Frame] = []
    for line in text.splitlines():
        python = _PYTHON_FRAME.search(line)
        if python:
            frames.append(Frame(python["path"], int(python["line"])))
            continue
        pytest = _PYTEST_FRAME.match(line) if pytest_style else None
        if pytest:
            frames.append(Frame(pytest["path"], int(pytest["line"])))
    return frames


def exception_line(text: str) -> str | None:
    """The last `E   ...` line of a pytest failure: the exception that ended it."""
    found = None
    for line in text.splitlines():
        match = _EXCEPTION_LINE.match(line)
        if match:
            found = match["text"].strip()
    return found


def parse_junit(xml_text: str) -> list[TestFailure]:
    """The failures and errors of a pytest JUnit report (ValueError if it is not XML).

    pytest's xunit1 family gives `file` and `line` (0-based) attributes; without them the
    test's file is unknown and the class path is the dotted `classname` as written.
    """
    try:
        tree = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError as error:
        raise ValueError(f"not a JUnit report: {error}") from error
    failures: list[TestFailure] = []
    for case in tree.iter("testcase"):
        name = case.get("name")
        if name is None:
            continue  # pytest's placeholder for an interrupted test
        for outcome in case:
            if outcome.tag in ("failure", "error"):
                failures.append(_failure(case, name, outcome))
    return failures


def _failure(case: ElementTree.Element, name: str, outcome: ElementTree.Element) -> TestFailure:
    file = case.get("file") or None
    classname = case.get("classname") or ""
    text = outcome.text or ""
    message = (outcome.get("message") or "").strip() or _first_line(text)
    classes: tuple[str, ...] = ()
    if not classname:
        # a module that failed to collect: pytest names the module in `name`
        name = ""
        detail = exception_line(text)
        if detail and detail not in message:
            message = f"{message}: {detail}" if message else detail
    else:
        classes = _classes(classname, file)
    line = case.get("line")
    location = Frame(file, int(line) + 1) if file and line and line.isdigit() else None
    return TestFailure(
        file=file,
        classes=classes,
        name=name,
        message=message,
        frames=tuple(traceback_frames(text)),
        location=location,
    )


def _classes(classname: str, file: str | None) -> tuple[str, ...]:
    if file is None:
        return (classname,)
    module = file.removesuffix(".py").replace("/", ".").replace("\\", ".")
    if classname == module:
        return ()
    if classname.startswith(module + "."):
        return tuple(classname[len(module) + 1 :].split("."))
    # the module's dotted name differs from its path (rootdir elsewhere, a package
    # prefix): test classes are the capitalised tail
    parts = classname.split(".")
    tail: list[str] = []
    while parts and parts[-1][:1].isupper():
        tail.insert(0, parts.pop())
    return tuple(tail)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def missing_module(output: str, module: str) -> bool:
    """Whether `python -m module` failed because the interpreter has no such module."""
    suffix = f": No module named {module}"
    return any(line.rstrip().endswith(suffix) for line in output.splitlines())


# --- command lines and paths ------------------------------------------------------------


def tool_name(argv: Sequence[str]) -> str | None:
    """ "mypy" for `mypy ...` or `python -m mypy ...`, likewise pyright; else None."""
    for candidate in (os.path.basename(argv[0]), *_module_of(argv)):
        if candidate in ("mypy", "pyright", "basedpyright"):
            return candidate
    return None


def pytest_position(argv: Sequence[str]) -> int | None:
    """Where `pytest` is in a pytest command line (its options can go right after), else None."""
    if os.path.basename(argv[0]) in ("pytest", "py.test"):
        return 0
    if _module_of(argv) == ("pytest",):
        return 2
    return None


def _module_of(argv: Sequence[str]) -> tuple[str, ...]:
    return (argv[2],) if len(argv) > 2 and argv[1] == "-m" else ()


def is_test_path(path: str) -> bool:
    """Whether a "/"-separated path is test code (by pytest's conventions)."""
    *folders, name = path.split("/")
    return (
        any(folder in ("tests", "test", "testing") for folder in folders)
        or name == "conftest.py"
        or is_test_file(name)
    )


def is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
