"""benchmarks/replay_commits.py on a tiny history made here, so the benchmark cannot rot
silently: one commit changes a function's signature together with its two callers in
other files and one unrelated function; the replay must edit both callers, and only them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitrepo import git
from planner_helpers import branches, status

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.replay_commits import run_replay, summarise  # noqa: E402

BEFORE = {
    "pkg/__init__.py": "",
    "pkg/core.py": "def area(w, h):\n    return w * h\n",
    "pkg/shapes.py": (
        "from pkg.core import area\n\n\ndef square(side):\n    return area(side, side)\n"
    ),
    "pkg/report.py": (
        "from pkg.core import area\n\n\n"
        "def describe(w, h):\n    return f'{area(w, h)} square units'\n\n\n"
        "def unrelated():\n    return 1\n"
    ),
}
AFTER = {
    **BEFORE,
    "pkg/core.py": "def area(w, h, unit):\n    return f'{w * h} {unit}'\n",
    "pkg/shapes.py": BEFORE["pkg/shapes.py"].replace("area(side, side)", "area(side, side, 'm')"),
    "pkg/report.py": (
        BEFORE["pkg/report.py"]
        .replace("area(w, h)} square units", "area(w, h, 'm')}")
        .replace("return 1", "return 2")
    ),
}


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def history(tmp_path: Path) -> Path:
    root = tmp_path / "history"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, BEFORE)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "areas")
    write(root, AFTER)
    git(root, "commit", "-q", "-am", "area takes a unit")
    # a body-only change: no signature changes, so no case
    (root / "pkg/report.py").write_text(AFTER["pkg/report.py"].replace("return 2", "return 3"))
    git(root, "commit", "-q", "-am", "unrelated returns 3")
    return root


def test_replay_edits_the_callers_and_nothing_else(tmp_path: Path) -> None:
    root = history(tmp_path)

    cases = run_replay(root, max_commits=10)

    assert len(cases) == 1
    case = cases[0]
    signature_commit = subprocess.run(
        ["git", "rev-parse", "--short=10", "HEAD~1"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert (case.commit, case.seed) == (signature_commit, "pkg/core.py::area")
    assert (case.status, case.error) == ("done", "")
    # truth: both callers and `unrelated`; linked: the callers
    assert (case.truth, case.linked) == (3, 2)
    assert (case.matched, case.missed_linked, case.missed, case.spurious) == (2, 0, 1, 0)
    assert case.missed_ids == []
    # both callers' edits rewrite their call of `area`: caused by the seed's change
    assert (case.caused, case.missed_caused) == (2, 0)
    # a triage of the two callers keeps both, then one request per caller, each answered
    # with the commit's text
    assert (case.calls, case.triage_calls, case.obligations) == (3, 1, 2)
    assert case.no_change_answers == 0
    # the baseline sends the two blocks that mention `area` (not the seed itself)
    assert (case.baseline_calls, case.baseline_matched) == (2, 2)
    assert case.seconds >= case.editor_seconds + case.build_seconds > 0

    summary = summarise(cases)
    assert summary["cases_missing_nothing_linked"] == 1.0
    assert summary["cases_missing_nothing_caused"] == 1.0
    assert summary["calls_per_matched"] == 1.5
    assert summary["baseline_calls_per_matched"] == 1.0
    # the replay works in a clone: the repository itself is untouched
    assert status(root) == ""
    assert branches(root) == ["main"]


def test_without_triage_each_caller_is_one_request(tmp_path: Path) -> None:
    (case,) = run_replay(history(tmp_path), max_commits=10, triage=False)
    assert (case.matched, case.missed_linked) == (2, 0)
    assert (case.calls, case.triage_calls, case.no_change_answers) == (2, 0, 0)


def test_a_linked_edit_that_leaves_the_seeds_call_alone_is_not_caused(tmp_path: Path) -> None:
    from benchmarks.impact_history import commit_changes
    from benchmarks.replay_commits import caused_blocks

    before = {k: v.encode() for k, v in BEFORE.items()}
    after = dict(before)
    after["pkg/core.py"] = AFTER["pkg/core.py"].encode()
    after["pkg/shapes.py"] = AFTER["pkg/shapes.py"].encode()  # rewrites its call of area
    # annotated, as a sweeping commit would: the call of `area` is untouched
    after["pkg/report.py"] = (
        BEFORE["pkg/report.py"].replace("(w, h):", "(w: int, h: int):").encode()
    )
    changes = commit_changes(before, after)
    seed = next(c for c in changes if c.block.qualname == "area")
    assert seed.old is not None
    linked = {"pkg/shapes.py::square", "pkg/report.py::describe"}
    caused = caused_blocks(seed.old, changes, (before, after), linked)
    assert caused == {"pkg/shapes.py::square"}
