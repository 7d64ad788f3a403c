"""Commit messages: history as style examples, the diff trimmed for the model, prefixes
completed, the deterministic fallback, and `codeplan commit-message` against a local
OpenAI-compatible server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run
from openai_server import Fail, Reply, ScriptedOpenAI

from codeplan.deliver.difftrim import parse_diff, trimmed_diff
from codeplan.deliver.messages import (
    clean_message,
    deterministic_message,
    generate_message,
    history_aware_prompt,
    plain_prompt,
    recent_messages,
)
from codeplan.plan.model import Cause, Edit, PlanGraph

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.commit_messages import StyleStandIn, commit_diff, evaluate  # noqa: E402

HUMAN = ("Ada Lovelace", "ada@example.com")
BOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
LOCK_LINE = "sha256-LOCKFILE-CONTENT"


def commit(
    root: Path, message: str, author: tuple[str, str] = HUMAN, files: dict[str, str] | None = None
) -> None:
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    name, email = author
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", message], cwd=root, check=True, env=env
    )


def git_out(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Human messages in the "module: lower case" style, with bot commits between them."""
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    commit(root, "shapes: add the Shape class", files={"shapes.py": "class Shape:\n    pass\n"})
    commit(root, "Bump ruff from 0.1 to 0.2", BOT, {"uv.lock": "ruff 0.2\n"})
    commit(root, "geometry: compute areas", files={"geometry.py": "def area(s):\n    return 0\n"})
    commit(root, "[pre-commit.ci] autoupdate", ("pre-commit-ci[bot]", "ci@example.com"))
    commit(root, "Merge branch 'stable'")
    commit(root, "shapes: document Shape")
    return root


def test_recent_messages_skip_bots_and_merges(repo: Path) -> None:
    assert recent_messages(repo) == [
        "shapes: document Shape",
        "geometry: compute areas",
        "shapes: add the Shape class",
    ]
    assert recent_messages(repo, 1) == ["shapes: document Shape"]
    assert recent_messages(repo, rev="HEAD~2") == [
        "geometry: compute areas",
        "shapes: add the Shape class",
    ]


def file_diff(path: str, added: list[str], header: str = "") -> str:
    lines = [f"diff --git a/{path} b/{path}", "index 1111111..2222222 100644", header]
    lines += [f"--- a/{path}", f"+++ b/{path}", f"@@ -1,0 +1,{len(added)} @@ def f():"]
    return "\n".join([line for line in lines if line] + [f"+{a}" for a in added]) + "\n"


def test_trimmed_diff_drops_lock_files_and_keeps_every_header_under_a_small_budget() -> None:
    big = file_diff("pkg/big.py", [f"value_{i} = compute({i})" for i in range(400)])
    lock = file_diff("uv.lock", [LOCK_LINE] * 50)
    small = file_diff("pkg/small.py", ["import os"])
    minified = file_diff("web/app.js", ["var a=1;" * 100])
    generated = file_diff("pkg/api_pb2.py", ["DESCRIPTOR = 1"])
    text = trimmed_diff(big + lock + small + minified + generated, 1_200)
    for path in ("pkg/big.py", "uv.lock", "pkg/small.py", "web/app.js", "pkg/api_pb2.py"):
        assert f"diff --git a/{path} b/{path}" in text
    assert LOCK_LINE not in text and "[lock file: +50 -0 lines not shown]" in text
    assert "var a=1;" not in text and "DESCRIPTOR" not in text
    assert "+import os" in text  # the small file is whole: the large one does not crowd it out
    assert "+value_0 = compute(0)" in text and "more lines]" in text
    assert "index 1111111" not in text
    assert len(text) < 1_400
    assert (
        trimmed_diff(small, 10_000)
        == "\n".join(line for line in small.splitlines() if not line.startswith("index")) + "\n"
    )


def test_parse_diff_counts_lines_and_finds_paths() -> None:
    files = parse_diff(file_diff("a b.py", ["x", "y"]) + "diff --git a/img.png b/img.png\n"
                       "Binary files a/img.png and b/img.png differ\n")  # fmt: skip
    assert [(f.path, f.added, f.hidden) for f in files] == [
        ("a b.py", 2, None),
        ("img.png", 0, "binary file"),
    ]


@pytest.mark.parametrize(
    ("answer", "prefix", "expected"),
    [
        ("```\nfix: handle empty args\n```", "fix: ", "fix: handle empty args"),
        ("handle empty args", "fix: handle", "fix: handle empty args"),  # repeated tail
        ("empty args", "fix: handle", "fix: handle empty args"),  # a continuation
        ("cli): add --json", "feat(", "feat(cli): add --json"),
        ("Fix: handle it", "fix: ", "fix: handle it"),  # the user's casing wins
        ('"Add the parser"', None, "Add the parser"),
        ("Commit message: Add the parser", None, "Add the parser"),
    ],
)
def test_clean_message_completes_the_prefix(answer: str, prefix: str | None, expected: str) -> None:
    assert clean_message(answer, prefix) == expected


def test_clean_message_keeps_the_subject_short_and_wraps_the_body() -> None:
    long = "Add " + "a very long subject " * 6
    message = clean_message(f"{long}\n\n" + "word " * 40 + "\n\n- item one\n- item two")
    subject, blank, *body = message.splitlines()
    assert len(subject) <= 72 and subject.startswith("Add a very long") and blank == ""
    assert all(len(line) <= 72 for line in body) and body[-2:] == ["- item one", "- item two"]


def test_prompts_show_examples_only_when_history_aware() -> None:
    diff = file_diff("pkg/a.py", ["x = 1"])
    aware = history_aware_prompt(diff, ["shapes: add the Shape class"], "geometry: ")
    content = aware[0]["content"]
    assert "<example>\nshapes: add the Shape class\n</example>" in content
    assert "<prefix>geometry: </prefix>" in content and "diff --git a/pkg/a.py" in content
    plain = plain_prompt(diff)[0]["content"]
    assert "<example>" not in plain and "<prefix>" not in plain and "+x = 1" in plain


def test_deterministic_message_from_a_plan() -> None:
    plan = PlanGraph()
    task = "rename Shape.w to Shape.width. Keep the old name working."
    seed = plan.add("pkg/shape.py::Shape.w", task, Cause("seed", "the task"), depth=0)
    plan.record_edit(Edit(1, seed.id, "pkg/shape.py", "Shape.w", "w", "width", ("MFN",), ()))
    reason = "it uses `Shape.w` (pkg/shape.py), which was renamed"
    caller = plan.add("pkg/draw.py::draw", task, Cause("edit", reason, 1, "UsedBy"), depth=1)
    plan.record_edit(Edit(2, caller.id, "pkg/draw.py", "draw", "s.w", "s.width", (), ()))
    message = deterministic_message(task, plan)
    assert message == (
        "Rename Shape.w to Shape.width\n\n"
        "pkg/draw.py:\n"
        f"- draw: {reason}\n"
        "pkg/shape.py:\n"
        "- Shape.w: the task"
    )
    assert generate_message(None, Path("."), "", task=task, plan=plan) == message


def test_without_plan_or_model_the_message_lists_the_files() -> None:
    diff = file_diff("pkg/a.py", ["x = 1"]) + file_diff("pkg/b.py", ["y = 2", "z = 3"])
    assert generate_message(None, Path("."), diff) == (
        "Update pkg/a.py, pkg/b.py\n\n- pkg/a.py (+1 -0)\n- pkg/b.py (+2 -0)"
    )
    assert generate_message(None, Path("."), diff, prefix="pkg: ").startswith("pkg: Update")


@pytest.fixture
def changed(repo: Path) -> Path:
    """Staged, unstaged, untracked and lock-file changes, plus an ignored file."""
    (repo / "geometry.py").write_text("def area(s):\n    return s.w * s.h\n")
    (repo / "circle.py").write_text("class Circle:\n    radius = 1\n")
    subprocess.run(["git", "add", "circle.py"], cwd=repo, check=True)
    (repo / "draw.py").write_text("def draw():\n    pass\n")
    (repo / "uv.lock").write_text(f"{LOCK_LINE}\n" * 20)
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "debug.log").write_text("IGNORED-CONTENT\n")
    return repo


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> ScriptedOpenAI:
    with ScriptedOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-KEY")
        monkeypatch.setenv("CODEPLAN_MODEL", "local-model")
        yield server


def test_cli_shows_the_model_the_history_and_the_diff(
    changed: Path, endpoint: ScriptedOpenAI
) -> None:
    endpoint.add(Reply("```\ngeometry: compute areas from the sides\n\nAlso add Circle.\n```"))
    index_before = git_out(changed, "diff", "--cached", "--name-only")
    outcome = run("commit-message", changed)
    assert outcome.exit_code == 0, outcome.err
    assert outcome.out == "geometry: compute areas from the sides\n\nAlso add Circle.\n"
    (request,) = endpoint.requests
    prompt = request.messages[-1]["content"]
    assert "shapes: document Shape" in prompt and "geometry: compute areas" in prompt
    assert "Bump ruff" not in prompt and "autoupdate" not in prompt and "Merge branch" not in prompt
    for path in ("geometry.py", "circle.py", "draw.py", ".gitignore"):
        assert f"diff --git a/{path} b/{path}" in prompt  # staged, unstaged and untracked
    assert LOCK_LINE not in prompt and "IGNORED-CONTENT" not in prompt
    assert git_out(changed, "diff", "--cached", "--name-only") == index_before  # index untouched


def test_cli_prefix_and_base(changed: Path, endpoint: ScriptedOpenAI) -> None:
    endpoint.add(Reply("compute areas from the sides"))
    outcome = run("commit-message", changed, "--message-prefix", "geometry: ", "--base", "HEAD~4")
    assert outcome.exit_code == 0, outcome.err
    assert outcome.out == "geometry: compute areas from the sides\n"
    prompt = endpoint.requests[0].messages[-1]["content"]
    assert "<prefix>geometry: </prefix>" in prompt
    # geometry.py was added after HEAD~4: a new file since that base
    assert "diff --git a/geometry.py b/geometry.py\nnew file mode" in prompt


def test_cli_no_llm_asks_no_model(changed: Path, endpoint: ScriptedOpenAI) -> None:
    outcome = run("commit-message", changed, "--no-llm")
    assert outcome.exit_code == 0, outcome.err
    assert endpoint.requests == []
    assert outcome.out.startswith("Update 5 files\n\n- .gitignore (+1 -0)\n")
    assert "- uv.lock (+20 -1)" in outcome.out and "debug.log" not in outcome.out


def test_cli_without_an_endpoint_falls_back_with_a_note(
    changed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "CODEPLAN_MODEL"):
        monkeypatch.delenv(name, raising=False)
    outcome = run("commit-message", changed, "--message-prefix", "chore: ")
    assert outcome.exit_code == 0, outcome.err
    assert outcome.out.startswith("chore: Update 5 files\n")
    assert "note: no model" in outcome.err


def test_cli_falls_back_when_the_model_fails(changed: Path, endpoint: ScriptedOpenAI) -> None:
    endpoint.add(Fail(400))
    outcome = run("commit-message", changed)
    assert outcome.exit_code == 0, outcome.err
    assert outcome.out.startswith("Update 5 files\n") and "note: the model failed" in outcome.err


def test_cli_with_nothing_changed(repo: Path) -> None:
    outcome = run("commit-message", repo, "--no-llm")
    assert outcome.exit_code == 1 and "nothing to describe" in outcome.err


def test_the_benchmark_stand_in_follows_the_history_and_the_harness_runs(repo: Path) -> None:
    new = "def area(s):\n    return s.w * s.h\n"
    commit(repo, "geometry: use the sides", files={"geometry.py": new})
    diff = commit_diff(repo, "HEAD")
    examples = recent_messages(repo, rev="HEAD^")
    stand_in = StyleStandIn()
    aware = generate_message(stand_in, repo, diff, examples=examples)
    plain = generate_message(stand_in, repo, diff, examples=[])
    assert aware == "geometry: update area" and plain == "Update area in geometry"
    summary = evaluate(repo, 2, None)
    assert summary["history"]["commits"] == summary["plain"]["commits"] == 2
    assert summary["history"]["subject_mean"] < summary["plain"]["subject_mean"]
