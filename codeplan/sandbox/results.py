"""Test results from pytest's JUnit XML: every test's outcome and duration, and failures
turned into the oracle's diagnostics (traceback frames mapped back to the host tree)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from codeplan.sandbox.model import TestOutcome
from codeplan.validate import parsers
from codeplan.validate.model import Diagnostic, Location

JUNIT_PATH = "/tmp/codeplan-junit.xml"  # inside the run container; outside the tree


def parse_outcomes(xml_text: str) -> list[TestOutcome]:
    """One outcome per testcase: passed, failed, error, skipped, xfail or xpass."""
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError:
        return []
    outcomes = []
    for case in root.iter("testcase"):
        outcome, message = _outcome(case)
        outcomes.append(
            TestOutcome(
                id=_test_id(case),
                outcome=outcome,
                duration_s=float(case.get("time") or 0.0),
                message=message,
            )
        )
    return outcomes


def _outcome(case: ElementTree.Element) -> tuple[str, str]:
    for tag, name in (("failure", "failed"), ("error", "error")):
        found = case.find(tag)
        if found is not None:
            return name, (found.get("message") or "").strip()
    skipped = case.find("skipped")
    if skipped is not None:
        kind = "xfail" if skipped.get("type") == "pytest.xfail" else "skipped"
        return kind, (skipped.get("message") or "").strip()
    for prop in case.iter("property"):  # xpass is reported as a pass with a property
        if prop.get("name") == "xpass":
            return "xpass", ""
    return "passed", ""


def _test_id(case: ElementTree.Element) -> str:
    """pytest's node id: `path::Class::name` (the JUnit classname is dotted)."""
    name = case.get("name") or ""
    file = case.get("file")
    classname = case.get("classname") or ""
    if file:
        module = PurePosixPath(file).with_suffix("").as_posix().replace("/", ".")
        classes = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
        parts = [file, *[c for c in classes.split(".") if c], name]
        return "::".join(parts)
    pieces = classname.split(".")
    # without `file` (xunit2), guess the module as the longest prefix that is a path
    return "::".join([f"{'/'.join(pieces)}.py", name]) if pieces else name


def failure_diagnostics(
    xml_text: str, host_root: Path, tree_root: str = "/work"
) -> list[Diagnostic]:
    """Failures and errors as diagnostics whose locations point into the host tree."""
    diagnostics = []
    for failure in parsers.parse_junit(xml_text):
        frames = [f for f in reversed(failure.frames)]  # innermost first
        locations = _locations(frames, host_root, tree_root)
        own = _locations([failure.location], host_root, tree_root) if failure.location else []
        ordered = sorted(locations, key=lambda loc: parsers.is_test_path(loc.path))
        ordered += [loc for loc in own if loc not in ordered]
        test_id = "::".join(p for p in (failure.file, *failure.classes, failure.name) if p)
        diagnostics.append(
            Diagnostic(
                check="tests",
                message=failure.message,
                locations=tuple(ordered),
                test_id=test_id or None,
            )
        )
    return diagnostics


def _locations(frames: Iterable[parsers.Frame], host_root: Path, tree_root: str) -> list[Location]:
    found: list[Location] = []
    prefix = tree_root.rstrip("/") + "/"
    for frame in frames:
        path = frame.path[len(prefix) :] if frame.path.startswith(prefix) else frame.path
        if path.startswith("/") or ".." in PurePosixPath(path).parts:
            continue  # the standard library or site-packages of the image
        if (host_root / path).is_file():
            location = Location(path, frame.line)
            if location not in found:
                found.append(location)
    return found
