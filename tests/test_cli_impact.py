"""`codeplan impact` on real git repositories made in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run
from gitrepo import git

LIB = "def price(amount):\n    return amount * 2\n\n\ndef total(items):\n    return sum(price(i) for i in items)\n"
USER = "from lib import price\n\n\ndef checkout(amount):\n    return price(amount)\n"
TEST = "from lib import price\n\n\ndef test_price():\n    assert price(1) == 2\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "lib.py").write_text(LIB)
    (tmp_path / "shop.py").write_text(USER)
    (tmp_path / "test_lib.py").write_text(TEST)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "initial")
    return tmp_path


def test_working_tree_change_as_json(repo: Path) -> None:
    (repo / "lib.py").write_text(LIB.replace("def price(amount):", "def price(amount, rate):"))
    outcome = run("impact", repo, "--format", "json")
    assert outcome.exit_code == 0, outcome.err
    report = json.loads(outcome.out)
    assert report["changes"] == [
        {
            "path": "lib.py",
            "qualname": "price",
            "kind": "function",
            "change": "modified",
            "labels": ["MMS", "param-added-required"],
        }
    ]
    impacted = {(i["path"], i["qualname"], i["relation"], i["is_test"]) for i in report["impacted"]}
    assert impacted == {
        ("lib.py", "total", "CalledBy", False),
        ("shop.py", "checkout", "CalledBy", False),
        ("test_lib.py", "test_price", "CalledBy", True),
    }
    first = report["impacted"][0]
    assert first["cause"] == {"path": "lib.py", "qualname": "price", "label": "MMS"}
    assert set(first) == {
        "path", "qualname", "kind", "start_line", "end_line", "relation",
        "is_test", "priority", "cause", "reason",
    }  # fmt: skip


def test_between_two_commits_as_a_tree(repo: Path) -> None:
    (repo / "lib.py").write_text(LIB.replace("def price(", "def unit_price("))
    git(repo, "commit", "-qam", "rename")
    outcome = run("impact", repo, "--base", "HEAD~1", "--head", "HEAD")
    assert outcome.exit_code == 0, outcome.err
    assert "lib.py:1 unit_price (function) [renamed: MMS, renamed]" in outcome.out
    assert "CalledBy → shop.py:4 checkout (function)" in outcome.out
    assert "ImportedBy → shop.py:1 import:price (import)" in outcome.out


def test_a_body_change_that_callers_cannot_see_impacts_nothing(repo: Path) -> None:
    (repo / "lib.py").write_text(
        LIB.replace("    return amount * 2\n", "    doubled = amount * 2\n    return doubled\n")
    )
    outcome = run("impact", repo, "--format", "json")
    report = json.loads(outcome.out)
    assert report["changes"][0]["labels"] == ["MMB"]  # no escape label: callers see nothing
    assert "internal change" in report["changes"][0]["escape"]
    assert report["impacted"] == []


def test_errors_are_clear(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    nothing = run("impact", repo)
    assert (nothing.exit_code, nothing.err) == (
        1,
        "error: no changes to analyse between HEAD and the working tree\n",
    )
    unknown = run("impact", repo, "--base", "no-such-rev")
    assert (unknown.exit_code, unknown.err) == (2, "error: unknown revision 'no-such-rev'\n")
    outside = tmp_path_factory.mktemp("plain")
    not_git = run("impact", outside)
    assert not_git.exit_code == 2
    assert "is not inside a git repository" in not_git.err


def test_rules_can_be_overridden_in_pyproject(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[tool.codeplan.impact.rules]\n"param-added-required" = []\nMMS = []\n'
    )
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-qm", "config")
    (repo / "lib.py").write_text(LIB.replace("def price(amount):", "def price(amount, rate):"))
    outcome = run("impact", repo, "--format", "json")
    assert outcome.exit_code == 0, outcome.err
    assert json.loads(outcome.out)["impacted"] == []

    (repo / "pyproject.toml").write_text("[tool.codeplan.impact.rules]\nMMX = []\n")
    bad = run("impact", repo)
    assert bad.exit_code == 2
    assert "impact rule for unknown label 'MMX'" in bad.err


def test_a_user_rule_for_a_refined_label(repo: Path) -> None:
    (repo / "codeplan.toml").write_text(
        '[impact.rules]\nMMS = []\n"param-added-required" = [{ relation = "ImportedBy" }]\n'
    )
    (repo / "lib.py").write_text(LIB.replace("def price(amount):", "def price(amount, rate):"))
    outcome = run("impact", repo, "--format", "json")
    impacted = {(i["qualname"], i["relation"]) for i in json.loads(outcome.out)["impacted"]}
    assert impacted == {("import:price", "ImportedBy")}
