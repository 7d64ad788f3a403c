"""Call-graph accuracy cases: for every project under benchmarks/cases/callgraph/, the Python
analyzer's Calls and Instantiates edges must equal the case's expected.json exactly.

The comparison logic is shared with benchmarks/callgraph_accuracy.py (which reports
precision and recall over all cases) through benchmarks/_callgraph.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks._callgraph import (  # noqa: E402
    analyze,
    compare,
    describe_mismatch,
    discover_cases,
    load_case,
    validate_case,
)

CASE_DIRS = discover_cases()
CASE_IDS = [path.name for path in CASE_DIRS]


def test_suite_has_enough_cases() -> None:
    assert len(CASE_DIRS) >= 30, f"only {len(CASE_DIRS)} call-graph cases found"


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=CASE_IDS)
def test_expected_edges_are_well_formed(case_dir: Path) -> None:
    problems = validate_case(load_case(case_dir))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=CASE_IDS)
def test_callgraph_case(case_dir: Path) -> None:
    case = load_case(case_dir)
    comparison = compare(case.expected, analyze(case.path))
    if not comparison.ok:
        pytest.fail(describe_mismatch(case.name, comparison), pytrace=False)
