"""Which lines of some files a test run executes (the tests' own coverage of them).

A small pytest plugin is written into the run by the run's own shell script, so both
backends, a container included, get it the same way.  It traces the given files while
tests run (fixtures included, module imports not) and writes the executed lines of each
test as JSON (a session-wide fixture counts for the first test that uses it).
Files are matched by the end of their path, down to its last two parts, so a package
the environment installed (`site-packages/pkg/mod.py` for `src/pkg/mod.py`) is traced too.  Without pytest there is no plugin: no trace."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence

TRACE_MODULE = "codeplan_trace"
TRACE_FILE = "trace.json"
PYTEST_ARGS = ("-p", TRACE_MODULE)

PLUGIN = '''"""CodePlan's line tracer (written by codeplan/sandbox/trace.py)."""
import json
import os
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


def _trace(frame, event, arg):
    path = _relative(frame.f_code.co_filename)
    if path is None:
        return None
    lines = _CURRENT[0].setdefault(path, set())
    lines.add(frame.f_code.co_firstlineno)

    def _line(frame, event, arg):
        if event == "line":
            lines.add(frame.f_lineno)
        return _line

    return _line


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _CURRENT[0] = _HITS.setdefault(item.nodeid, {})
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
        json.dump({"tests": report}, out)
'''


def trace_setup(directory: str, files: Sequence[str]) -> list[str]:
    """Shell lines that write the plugin into `directory` and point it at `files`
    (repository-relative paths)."""
    folder = shlex.quote(directory)
    return [
        f"mkdir -p {folder}",
        f"cat > {folder}/{TRACE_MODULE}.py <<'CODEPLAN_TRACE_EOF'\n{PLUGIN}CODEPLAN_TRACE_EOF",
        f"export PYTHONPATH={folder}${{PYTHONPATH:+:$PYTHONPATH}}",
        f"export CODEPLAN_TRACE_FILES={shlex.quote(chr(10).join(files))}",
        f"export CODEPLAN_TRACE_OUT={folder}/{TRACE_FILE}",
    ]


Lines = Mapping[str, frozenset[int]]  # path -> line numbers


def executed_by_test(report: str) -> Mapping[str, Lines] | None:
    """The plugin's report: pytest node id -> path -> the lines that test executed; None
    when there is none."""
    try:
        data = json.loads(report)
    except ValueError:
        return None
    tests = data.get("tests") if isinstance(data, dict) else None
    if not isinstance(tests, dict):
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


def union(by_test: Mapping[str, Lines]) -> Lines:
    """The lines any of the tests executed, by path."""
    lines: dict[str, set[int]] = {}
    for hits in by_test.values():
        for path, numbers in hits.items():
            lines.setdefault(path, set()).update(numbers)
    return {path: frozenset(numbers) for path, numbers in lines.items()}
