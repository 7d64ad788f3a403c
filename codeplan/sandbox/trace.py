"""Which lines of some files a test run executes (the tests' own coverage of them).

A small pytest plugin is written into the run by the run's own shell script, so both
backends, a container included, get it the same way.  It traces the given files while
tests run (fixtures included, module imports not) and writes the executed lines of each
test as JSON (a session-wide fixture counts for the first test that uses it).
Files are matched by the end of their path, down to its last two parts, so a package
the environment installed (`site-packages/pkg/mod.py` for `src/pkg/mod.py`) is traced
too.  Without pytest there is no plugin: no trace.

It can also observe those files from outside: for each test, what each call into them
from elsewhere (the test, a fixture, a file not traced) returned or raised, as text, hashed
in call order per function.  What the files do inside, between their own functions, is
left out: a refactoring shows there, but not to a test.  Two runs of a test, over the tree
before a change and after it, then tell whether the changed files behaved otherwise as far
as that test could see.  The text never runs a value's own code (no `repr` of an object
that defines one: a lazy query would execute): plain data is spelled out, another object
is its class (what a test reads of it through a method or property is a call of its
own).  The run's folder and pytest's numbered temporary folders are written alike in every
run, and string hashing is seeded, so that equal behaviour gives equal text."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TRACE_MODULE = "codeplan_trace"
TRACE_FILE = "trace.json"
PYTEST_ARGS = ("-p", TRACE_MODULE)

PLUGIN = '''"""CodePlan's line tracer (written by codeplan/sandbox/trace.py)."""
import dis
import hashlib
import json
import os
import re
import sys
import threading

import pytest

_WANTED = [p for p in os.environ.get("CODEPLAN_TRACE_FILES", "").split("\\n") if p]
_BY_NAME = {}
for _path in _WANTED:
    _BY_NAME.setdefault(_path.rsplit("/", 1)[-1], []).append(_path)
_KNOWN = {}
_HITS = {}  # node id -> path -> lines
_CURRENT = [{}]  # the running test's hits
_OBSERVE = os.environ.get("CODEPLAN_TRACE_OBSERVE") == "1"
_OBSERVED = {}  # node id -> "path::qualname" -> [digest, calls, first outcomes]
_CURRENT_OBSERVED = [{}]
_MAX_CALLS, _FIRST, _LIMIT, _ITEMS = 10000, 5, 200, 50
_ROOT = os.getcwd() if len(os.getcwd()) > 1 else "\\0"
_VOLATILE = re.compile(r"0x[0-9a-fA-F]+|pytest-\\d+|codeplan-run-\\w+")
_NUMBERS = (bool, int, float, complex)
_EXITS = {op for name, op in dis.opmap.items() if "RETURN" in name or "YIELD" in name}
# value types whose repr is the standard library's own: it shows the value, runs nothing else
_SAFE_REPR = {"decimal", "_decimal", "datetime", "fractions", "uuid", "pathlib", "ipaddress"}


def _tails(path):
    """`src/pkg/mod.py`, then `pkg/mod.py`: an installed copy drops the leading folders."""
    parts = path.split("/")
    return ["/".join(parts[-k:]) for k in range(len(parts), min(len(parts), 2) - 1, -1)]


def _relative(filename):
    if filename not in _KNOWN:
        name = filename.replace("\\\\", "/")
        candidates = _BY_NAME.get(name.rsplit("/", 1)[-1], ())
        _KNOWN[filename] = next(
            (
                p
                for p in candidates
                for tail in _tails(p)
                if name == tail or name.endswith("/" + tail)
            ),
            None,
        )
    return _KNOWN[filename]


def _plain(text):
    return _VOLATILE.sub("~", text.replace(_ROOT, "<root>"))


def _describe(value, depth=0):
    """The value as text, running none of its own code."""
    kind = type(value)
    name = kind.__qualname__
    if value is None:
        return "None"
    if isinstance(value, _NUMBERS):
        base = next(t for t in _NUMBERS if isinstance(value, t))
        text = base.__repr__(value)
        return text if kind is base else name + "(" + text + ")"
    if isinstance(value, (str, bytes)):
        base = str if isinstance(value, str) else bytes
        text = _plain(base.__repr__(value))
        if len(text) > _LIMIT:
            text = text[:_LIMIT] + "..#" + hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
        return text if kind is base else name + "(" + text + ")"
    if depth >= 3:
        return name
    if isinstance(value, (list, tuple)):
        items = [_describe(v, depth + 1) for v in value[:_ITEMS]]
        return name + "[" + ", ".join(items) + ("" if len(value) <= _ITEMS else ", ..") + "]"
    if isinstance(value, (set, frozenset)):
        items = sorted(_describe(v, depth + 1) for v in value)
        return name + "{" + ", ".join(items[:_ITEMS]) + "}"
    if isinstance(value, dict):
        pairs = list(dict.items(value))[:_ITEMS]
        return name + "{" + ", ".join(
            _describe(k, depth + 1) + ": " + _describe(v, depth + 1) for k, v in pairs
        ) + "}"
    if isinstance(value, BaseException):
        return name + "(" + ", ".join(_describe(a, depth + 1) for a in value.args) + ")"
    if isinstance(value, type):
        return "class " + value.__qualname__
    if kind.__module__ in _SAFE_REPR:
        return _plain(repr(value))
    # another object by its class alone: its attributes are how it is built, which a
    # refactoring changes; what a test sees of it goes through its methods and properties,
    # each a call into the traced files of its own
    return name


def _qualname(code):
    return getattr(code, "co_qualname", code.co_name).replace(".<locals>", "")


def _unwinding(frame):
    """Whether the frame leaves by an exception: its last instruction neither returns nor
    yields (a "return" event's value is None then, as for `return None`)."""
    try:
        return frame.f_code.co_code[frame.f_lasti] not in _EXITS
    except IndexError:
        return False


def _observer(key, lines):
    """The local tracer of a call into the traced files: lines, and the call's outcome."""
    raised = [None]

    def _event(frame, event, arg):
        if event == "line":
            lines.add(frame.f_lineno)
        elif event == "exception":
            raised[0] = arg[1]
        elif event == "return":
            record = _CURRENT_OBSERVED[0].setdefault(key, [hashlib.blake2b(), 0, []])
            record[1] += 1
            if record[1] <= _MAX_CALLS:
                if _unwinding(frame):
                    text = "raised " + _describe(raised[0])
                else:
                    text = "returned " + _describe(arg)
                record[0].update(text.encode("utf-8", "replace") + b"\\n")
                if len(record[2]) < _FIRST:
                    record[2].append(text[:_LIMIT])
        return _event

    return _event


def _trace(frame, event, arg):
    path = _relative(frame.f_code.co_filename)
    if path is None:
        return None
    lines = _CURRENT[0].setdefault(path, set())
    lines.add(frame.f_code.co_firstlineno)
    if _OBSERVE:
        caller = frame.f_back
        if caller is None or _relative(caller.f_code.co_filename) is None:
            return _observer(path + "::" + _qualname(frame.f_code), lines)

    def _line(frame, event, arg):
        if event == "line":
            lines.add(frame.f_lineno)
        return _line

    return _line


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _CURRENT[0] = _HITS.setdefault(item.nodeid, {})
    _CURRENT_OBSERVED[0] = _OBSERVED.setdefault(item.nodeid, {})
    sys.settrace(_trace)
    threading.settrace(_trace)
    try:
        yield
    finally:
        sys.settrace(None)
        threading.settrace(None)


def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["CODEPLAN_TRACE_OUT"], "w") as out:
        report = {
            node: {path: sorted(lines) for path, lines in hits.items()}
            for node, hits in _HITS.items()
        }
        observed = {
            node: {key: [r[0].hexdigest(), r[1], r[2]] for key, r in records.items()}
            for node, records in _OBSERVED.items()
            if records
        }
        json.dump({"tests": report, "observed": observed}, out)
'''


def trace_setup(directory: str, files: Sequence[str], observe: bool = False) -> list[str]:
    """Shell lines that write the plugin into `directory` and point it at `files`
    (repository-relative paths), which it also `observe`s from outside."""
    folder = shlex.quote(directory)
    lines = [
        f"mkdir -p {folder}",
        f"cat > {folder}/{TRACE_MODULE}.py <<'CODEPLAN_TRACE_EOF'\n{PLUGIN}CODEPLAN_TRACE_EOF",
        f"export PYTHONPATH={folder}${{PYTHONPATH:+:$PYTHONPATH}}",
        f"export CODEPLAN_TRACE_FILES={shlex.quote(chr(10).join(files))}",
        f"export CODEPLAN_TRACE_OUT={folder}/{TRACE_FILE}",
    ]
    if observe:
        # a set's order follows string hashes: seeded, two runs describe it alike
        lines += ["export CODEPLAN_TRACE_OBSERVE=1", "export PYTHONHASHSEED=0"]
    return lines


Lines = Mapping[str, frozenset[int]]  # path -> line numbers


def executed_by_test(report: str) -> Mapping[str, Lines] | None:
    """The plugin's report: pytest node id -> path -> the lines that test executed; None
    when there is none."""
    tests = _section(report, "tests")
    if tests is None:
        return None
    return {
        str(node): {
            str(path): frozenset(n for n in lines if isinstance(n, int))
            for path, lines in hits.items()
            if isinstance(lines, list)
        }
        for node, hits in tests.items()
        if isinstance(hits, dict)
    }


def _section(report: str, name: str) -> dict[str, Any] | None:
    """One part of the plugin's JSON report, by test; None when it is missing or damaged."""
    try:
        data = json.loads(report)
    except ValueError:
        return None
    section = data.get(name) if isinstance(data, dict) else None
    return section if isinstance(section, dict) else None


@dataclass(frozen=True)
class Observed:
    """What the calls of one function, from outside its traced file, did in one test."""

    digest: str  # of every call's outcome, in order
    calls: int
    first: tuple[str, ...]  # the first calls' outcomes, as text

    def differs(self, other: Observed) -> str | None:
        """How these calls went otherwise than `other`'s; None when they went alike."""
        if self.digest == other.digest and self.calls == other.calls:
            return None
        for index, (mine, theirs) in enumerate(zip(self.first, other.first, strict=False)):
            if mine != theirs:
                return f"at its call {index + 1} {_clipped(mine)}, where it {_clipped(theirs)}"
        if self.calls != other.calls:
            return f"is called {self.calls} times, where it was called {other.calls} times"
        return f"behaves otherwise after its first {len(self.first)} calls"


def _clipped(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def observed_by_test(report: str) -> Mapping[str, Mapping[str, Observed]] | None:
    """The plugin's observations: pytest node id -> "path::qualname" -> what the calls
    into that function from outside the traced files did; None when the report has none."""
    tests = _section(report, "observed")
    if tests is None:
        return None
    found: dict[str, dict[str, Observed]] = {}
    for node, records in tests.items():
        if not isinstance(records, dict):
            continue
        for key, record in records.items():
            if isinstance(record, list) and len(record) == 3:
                digest, calls, first = record
                texts = tuple(str(t) for t in first) if isinstance(first, list) else ()
                found.setdefault(str(node), {})[str(key)] = Observed(str(digest), int(calls), texts)
    return found


def union(by_test: Mapping[str, Lines]) -> Lines:
    """The lines any of the tests executed, by path."""
    lines: dict[str, set[int]] = {}
    for hits in by_test.values():
        for path, numbers in hits.items():
            lines.setdefault(path, set()).update(numbers)
    return {path: frozenset(numbers) for path, numbers in lines.items()}
