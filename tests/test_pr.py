"""`codeplan pr` against a local bare repository as the remote and a local HTTP server
speaking the GitHub REST endpoints used (tests/github_server.py)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_helpers import run
from codemods import TASK, SwapPriceArguments
from github_server import FakeGitHub
from gitrepo import git
from planner_helpers import example_repo

from codeplan import Planner, Repository
from codeplan.deliver.github import GitHubClient, repo_slug
from codeplan.deliver.pr import diff_stats, open_or_update_pr, pr_body
from codeplan.errors import DeliveryError
from codeplan.plan.render import usage_line
from codeplan.plan.store import RunStore

SEED = "inventory/pricing.py::price_with_tax"
TOKEN = "ghp-secret-token-1234567890"


@dataclass(frozen=True)
class Made:
    repo: Path
    remote: Path
    run_id: str
    branch: str


def rev(root: Path, ref: str) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", ref], cwd=root, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture
def made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Made:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    repo = example_repo(tmp_path)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    result = Planner(Repository(repo), editor=SwapPriceArguments(), validate=False).run(
        TASK, [SEED]
    )
    assert result.status == "done" and result.diff
    return Made(repo, remote, result.run_id, result.branch)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with FakeGitHub(TOKEN, prefix="/api/v3") as server:
        yield server


def pr(made: Made, hub: FakeGitHub, *extra: str) -> tuple[int, str, str]:
    outcome = run("pr", made.run_id, "-C", made.repo, "--repo", "octo/shop",
                  "--api-url", hub.api_url, *extra)  # fmt: skip
    return outcome.exit_code, outcome.out, outcome.err


def test_pr_pushes_the_branch_and_opens_a_pull_request(made: Made, hub: FakeGitHub) -> None:
    code, out, err = pr(
        made, hub, "--labels", "codeplan,bot", "--labels", "refactor",
        "--reviewers", "alice", "--reviewers", "octo/reviewers",
    )  # fmt: skip

    assert code == 0, err
    assert "opened pull request #1: https://github.example/octo/shop/pull/1" in out
    # the run's branch is on the remote at the run's tip, and nothing else was pushed
    assert rev(made.remote, f"refs/heads/{made.branch}") == rev(made.repo, made.branch)
    heads = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)"], cwd=made.remote, capture_output=True,
        text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert sorted(heads) == sorted(["refs/heads/main", f"refs/heads/{made.branch}"])

    repo = "/repos/octo/shop"
    assert hub.calls() == [
        ("GET", f"{repo}/pulls"),
        ("POST", f"{repo}/pulls"),
        ("POST", f"{repo}/issues/1/labels"),
        ("POST", f"{repo}/pulls/1/requested_reviewers"),
    ]
    # the Enterprise API root's path is kept in front of every endpoint
    assert all(r.path.startswith("/api/v3/repos/") for r in hub.requests)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in hub.requests)
    find, create, labels, reviewers = hub.requests
    assert find.query == {"head": f"octo:{made.branch}", "state": "open", "per_page": "10"}
    assert create.body["head"] == made.branch
    assert create.body["base"] == "main"  # the remote's default branch
    assert create.body["title"] == TASK
    assert create.body["draft"] is False  # the run is done
    assert labels.body == {"labels": ["codeplan", "bot", "refactor"]}
    assert reviewers.body == {"reviewers": ["alice"], "team_reviewers": ["reviewers"]}

    body = create.body["body"]
    record = RunStore(made.repo).load(made.run_id)
    assert TASK in body
    assert f"`codeplan show {made.run_id}`" in body or f"codeplan show {made.run_id}" in body
    assert made.branch in body
    assert usage_line(record.progress.usage) in body
    for obligation in record.plan.obligations.values():
        assert f"`{obligation.block_id}`" in body
        for cause in obligation.causes:
            assert f"_because_ {' '.join(cause.reason.split())}" in body
    # a caller sits under the seed's edit, indented: the plan is a tree
    assert "\n  - **edited** `inventory/pricing.py::line_total`" in body
    assert "`tests/test_pricing.py::" in body.split("### Updated tests")[1]
    assert "Not validated" in body.split("### Validation")[1]
    assert TOKEN not in body and TOKEN not in out + err


def test_a_second_pr_updates_the_same_pull_request(made: Made, hub: FakeGitHub) -> None:
    assert pr(made, hub, "--draft", "--base", "main")[0] == 0
    first_tip = rev(made.repo, made.branch)
    # a resume may rewind the branch and commit anew: the remote tip is no ancestor now
    worktree = made.repo / ".codeplan" / "worktrees" / made.run_id
    git(worktree, "reset", "-q", "--hard", "HEAD~1")
    (worktree / "NOTES.md").write_text("redone\n")
    git(worktree, "add", "NOTES.md")
    git(worktree, "commit", "-q", "-m", "redo")
    hub.requests.clear()

    code, out, err = pr(made, hub, "--labels", "again", "--format", "json")

    assert code == 0, err
    shown = json.loads(out)
    assert shown["number"] == 1 and shown["created"] is False
    assert rev(made.remote, f"refs/heads/{made.branch}") == rev(made.repo, made.branch)
    assert rev(made.repo, made.branch) != first_tip
    repo = "/repos/octo/shop"
    assert hub.calls() == [
        ("GET", f"{repo}/pulls"),
        ("PATCH", f"{repo}/pulls/1"),
        ("POST", f"{repo}/issues/1/comments"),
        ("POST", f"{repo}/issues/1/labels"),
    ]
    assert len(hub.pulls) == 1 and hub.pulls[1].draft is True
    assert TASK in hub.requests[1].body["body"]
    assert shown["pushed"][:12] in hub.pulls[1].comments[0]
    assert hub.pulls[1].labels == ["again"]


def test_commits_pushed_by_someone_else_are_never_overwritten(
    made: Made, hub: FakeGitHub, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(made.remote), str(other))
    git(other, "checkout", "-q", "-b", made.branch)
    (other / "THEIRS.md").write_text("theirs\n")
    git(other, "add", "THEIRS.md")
    git(other, "commit", "-q", "-m", "theirs")
    git(other, "push", "-q", "origin", made.branch)
    theirs = rev(other, "HEAD")

    code, _, err = pr(made, hub)

    assert code == 1
    assert "never had" in err and made.branch in err
    assert rev(made.remote, f"refs/heads/{made.branch}") == theirs
    assert hub.requests == []


def test_a_rejected_token_is_a_clear_error_without_the_token(
    made: Made, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "ghp-wrong-token-0987654321"
    monkeypatch.setenv("GITHUB_TOKEN", wrong)
    code, out, err = pr(made, hub)
    assert code == 1
    assert "HTTP 401" in err and "Bad credentials" in err and "GITHUB_TOKEN" in err
    # the fake echoes the token it got; the message must not
    assert hub.requests and wrong not in err + out and "[REDACTED]" in err


def test_without_a_token_nothing_is_pushed_and_the_error_names_github_token(
    made: Made, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    code, _, err = pr(made, hub)
    assert code == 1 and "GITHUB_TOKEN" in err
    assert rev(made.remote, f"refs/heads/{made.branch}") == ""
    assert hub.requests == []


def test_the_api_url_may_come_from_the_environment(
    made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    with FakeGitHub(TOKEN, prefix="/ghe/api/v3") as hub:
        monkeypatch.setenv("GITHUB_API_URL", hub.api_url + "/")
        outcome = run("pr", "-C", made.repo, "--repo", "octo/shop", "--ready")
    assert outcome.exit_code == 0, outcome.err
    assert [r.path for r in hub.requests] == [
        "/ghe/api/v3/repos/octo/shop/pulls",
        "/ghe/api/v3/repos/octo/shop/pulls",
    ]
    assert hub.requests[1].body["draft"] is False


def test_a_remote_that_names_no_github_repository_needs_repo(made: Made, hub: FakeGitHub) -> None:
    outcome = run("pr", "-C", made.repo, "--api-url", hub.api_url)  # origin is a local path
    assert outcome.exit_code == 1 and "--repo OWNER/NAME" in outcome.err
    assert rev(made.remote, f"refs/heads/{made.branch}") == "" and hub.requests == []


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/octo/shop.git", "octo/shop"),
        ("https://x-access-token:abc@github.com/octo/shop", "octo/shop"),
        ("git@github.com:octo/shop.git", "octo/shop"),
        ("ssh://git@ghe.example.com:2222/octo/shop.git", "octo/shop"),
        ("github.com:octo/shop", "octo/shop"),
        ("/srv/git/shop.git", None),
        ("../shop", None),
    ],
)
def test_repo_slug_forms(url: str, slug: str | None) -> None:
    assert repo_slug(url) == slug


def test_github_refusals_carry_githubs_message() -> None:
    with FakeGitHub(TOKEN) as hub:
        client = GitHubClient(hub.api_url, TOKEN)
        first = open_or_update_pr(client, "octo/shop", "feature", "main", "T", "B", draft=True)
        assert first.created and first.number == 1 and first.draft
        with pytest.raises(DeliveryError, match=r"HTTP 422.*already exists"):
            client.create_pull("octo/shop", head="feature", base="main", title="T", body="B",
                               draft=False)  # fmt: skip
        with pytest.raises(DeliveryError, match=r"HTTP 404.*Not Found.*cannot see it"):
            client.add_labels("octo/other", 1, ["x"])
    assert TOKEN not in repr(client)
    with pytest.raises(DeliveryError, match="cannot reach GitHub"):
        GitHubClient(hub.api_url, TOKEN, timeout=2).find_open_pull("octo/shop", "octo:x")


def test_the_client_refuses_a_non_http_api_url() -> None:
    with pytest.raises(DeliveryError, match="https://HOST/api/v3"):
        GitHubClient.from_env({"GITHUB_TOKEN": TOKEN}, "ftp://example.com")


def test_pr_body_reports_validation_rounds_and_flaky_tests(made: Made) -> None:
    store = RunStore(made.repo)
    record = store.load(made.run_id)
    events = [
        {"event": "validate", "round": 1, "ok": False, "diagnostics": ["a", "b"]},
        {"event": "validate", "round": 2, "ok": True, "diagnostics": []},
        {"event": "sandbox-test", "flaky": ["tests/test_x.py::test_sometimes"]},
    ]
    body = pr_body(record, "", events)
    validation = body.split("### Validation")[1].split("###")[0]
    assert "Round 1: 2 new problems" in validation and "Round 2: passed" in validation
    assert "`tests/test_x.py::test_sometimes`" in validation


def test_diff_stats_counts_lines_per_file() -> None:
    diff = (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b\n+c\n"
        "diff --git a/y.py b/y.py\n--- a/y.py\n+++ b/y.py\n@@ -1 +0,0 @@\n-gone\n"
    )
    assert diff_stats(diff) == {"x.py": (2, 1), "y.py": (0, 1)}
