"""Workspaces: a run's branch and worktree in real git repositories made in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from codeplan.deliver import Workspace, slugify, working_tree_changes
from codeplan.errors import WorkspaceError
from tests.gitrepo import git

FILES = {
    "app/core.py": "def total(items):\n    return sum(items)\n",
    "app/util.py": "def double(x):\n    return 2 * x\n",
    "README.md": "demo\n",
    ".gitignore": "*.log\n",
}


def make_repo(root: Path, files: dict[str, str] = FILES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def out(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def snapshot(root: Path) -> tuple[str, str, str, dict[str, bytes]]:
    """Everything the user could see: status, branch, HEAD and the bytes of every file."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts and ".codeplan" not in p.parts
    }
    return (
        out(root, "status", "--porcelain", "--untracked-files=all"),
        out(root, "branch", "--show-current"),
        out(root, "rev-parse", "HEAD"),
        files,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def test_work_happens_on_the_branch_and_leaves_the_user_tree_alone(repo: Path) -> None:
    (repo / "app/util.py").write_text("def double(x):\n    return x + x\n")  # user edit
    (repo / "debug.log").write_text("ignored\n")
    before = snapshot(repo)
    ws = Workspace.create(repo, "run1", "codeplan/faster-total")
    assert ws.toplevel == ws.root == repo / ".codeplan/worktrees/run1"
    assert ws.read("app/core.py") == FILES["app/core.py"].encode()
    assert ws.read("app/util.py") == FILES["app/util.py"].encode()  # base, not the user edit
    assert ws.read("missing.py") is None
    assert ws.commit("nothing") is None

    ws.write("app/core.py", b"def total(items):\n    return sum(items, 0)\n")
    ws.write("app/new/extra.py", b"X = 1\n")
    ws.delete("README.md")
    sha = ws.commit("step 1")
    assert sha is not None and sha == out(repo, "rev-parse", "codeplan/faster-total").strip()
    assert ws.changed_paths() == ["README.md", "app/core.py", "app/new/extra.py"]
    diff = ws.diff()
    assert "+    return sum(items, 0)" in diff and "+++ b/app/new/extra.py" in diff
    assert "--- a/README.md" in diff and diff.endswith("\n")
    assert snapshot(repo) == before
    assert out(repo, "log", "-1", "--format=%s", "codeplan/faster-total").strip() == "step 1"


def test_diff_includes_uncommitted_and_new_files(repo: Path) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    ws.write("fresh.py", b"A = 1\n")
    assert "+++ b/fresh.py" in ws.diff()
    assert ws.changed_paths() == ["fresh.py"]
    assert ws.diff(since_base=False) == ws.diff()  # no seed commit: start is the base


def test_nothing_under_codeplan_is_committed(repo: Path) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    (ws.root / ".codeplan").mkdir()
    (ws.root / ".codeplan/cache.db").write_bytes(b"cache")  # no .gitignore in this one
    (ws.root / "app/.codeplan").mkdir()
    (ws.root / "app/.codeplan/x").write_bytes(b"cache")
    assert ws.commit("step") is None
    with pytest.raises(WorkspaceError):
        ws.write(".codeplan/runs/x.json", b"{}")
    assert (repo / ".codeplan/.gitignore").read_text() == "*\n"


def test_carry_changes_seeds_the_branch_with_the_user_edits(repo: Path) -> None:
    (repo / "app/core.py").write_text("def total(items):\n    return sum(items) + 0\n")
    (repo / "app/added.py").write_text("NEW = True\n")
    (repo / "README.md").unlink()
    changes = working_tree_changes(repo)
    assert changes == ["README.md", "app/added.py", "app/core.py"]
    before = snapshot(repo)
    ws = Workspace.create(repo, "seeded", "codeplan/seeded", carry_changes=changes)
    assert ws.seed_sha is not None and ws.start_sha == ws.seed_sha != ws.base_sha
    assert ws.read("app/core.py") == (repo / "app/core.py").read_bytes()
    assert ws.read("app/added.py") == b"NEW = True\n"
    assert ws.read("README.md") is None
    seed_log = out(repo, "log", "-1", "--format=%s", "codeplan/seeded").strip()
    assert seed_log == "codeplan: user changes (seed)"
    assert ws.changed_paths() == ["README.md", "app/added.py", "app/core.py"]
    assert ws.changed_paths(since_base=False) == []
    assert ws.diff(since_base=False) == ""
    assert snapshot(repo) == before


def test_branch_exists_and_bad_names_are_refused(repo: Path) -> None:
    git(repo, "branch", "codeplan/taken")
    with pytest.raises(WorkspaceError, match=r"codeplan/taken-2.*codeplan resume"):
        Workspace.create(repo, "r", "codeplan/taken")
    with pytest.raises(WorkspaceError, match="not a valid branch name"):
        Workspace.create(repo, "r", "bad..name")
    with pytest.raises(WorkspaceError, match="not a valid run id"):
        Workspace.create(repo, "../up", "codeplan/ok")
    with pytest.raises(WorkspaceError, match="unknown base"):
        Workspace.create(repo, "r", "codeplan/ok", base="no-such-rev")
    assert not (repo / ".codeplan/worktrees/r").exists()
    Workspace.create(repo, "r", "codeplan/ok")
    with pytest.raises(WorkspaceError, match="already has a workspace"):
        Workspace.create(repo, "r", "codeplan/other")


def test_not_a_repository_and_empty_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(WorkspaceError, match="not inside a git repository"):
        Workspace.create(plain, "r", "codeplan/x")
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    (empty / "a.py").write_text("A = 1\n")
    with pytest.raises(WorkspaceError, match="no commits yet"):
        Workspace.create(empty, "r", "codeplan/x")
    assert working_tree_changes(empty) == ["a.py"]


def test_subfolder_project(tmp_path: Path) -> None:
    top = make_repo(tmp_path / "big", {"other/x.py": "X = 1\n", "examples/inv/stock.py": "N = 1\n"})
    project = top / "examples/inv"
    (project / "stock.py").write_text("N = 2\n")
    (top / "other/x.py").write_text("X = 2\n")  # outside the project: not carried
    changes = working_tree_changes(project)
    assert changes == ["stock.py"]
    ws = Workspace.create(project, "r", "codeplan/sub", carry_changes=changes)
    assert ws.prefix == "examples/inv/"
    assert ws.toplevel == project / ".codeplan/worktrees/r"
    assert ws.root == ws.toplevel / "examples/inv"
    assert ws.read("stock.py") == b"N = 2\n"
    assert (ws.toplevel / "other/x.py").read_bytes() == b"X = 1\n"
    ws.write("stock.py", b"N = 3\n")
    ws.commit("step")
    assert ws.changed_paths() == ["stock.py"]
    assert "+++ b/stock.py" in ws.diff() and "-N = 1" in ws.diff()
    assert "-N = 2" in ws.diff(since_base=False)
    assert ws.apply_to_user_tree() == ["stock.py"]
    assert (project / "stock.py").read_bytes() == b"N = 3\n"
    assert (top / "other/x.py").read_bytes() == b"X = 2\n"
    with pytest.raises(WorkspaceError, match="leaves the project folder"):
        ws.read("../../other/x.py")


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../x", "", ".git/config"])
def test_paths_that_escape_are_refused(repo: Path, path: str) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    with pytest.raises(WorkspaceError):
        ws.write(path, b"x")
    with pytest.raises(WorkspaceError):
        ws.read(path)


def test_symlinked_folder_escape_is_refused(repo: Path, tmp_path: Path) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, ws.root / "link")
    with pytest.raises(WorkspaceError, match="symlink"):
        ws.write("link/x.py", b"x")
    assert not (outside / "x.py").exists()


def test_atomic_write_leaves_no_temporary_files(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    (ws.root / "app/util.py").chmod(0o755)
    ws.write("app/util.py", b"changed\n")
    assert (ws.root / "app/util.py").stat().st_mode & 0o777 == 0o755
    assert [p.name for p in (ws.root / "app").iterdir() if p.name.startswith(".codeplan")] == []

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        ws.write("app/core.py", b"never\n")
    assert ws.read("app/core.py") == FILES["app/core.py"].encode()
    assert sorted(p.name for p in (ws.root / "app").iterdir()) == ["core.py", "util.py"]


def test_reset_uncommitted_returns_to_the_last_step(repo: Path) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    ws.write("app/core.py", b"step one\n")
    ws.commit("step 1")
    ws.write("app/core.py", b"half done\n")
    ws.write("stray.py", b"half\n")
    ws.delete("app/util.py")
    ws.diff()  # stages everything: reset must undo that too
    ws.reset_uncommitted()
    assert ws.read("app/core.py") == b"step one\n"
    assert ws.read("stray.py") is None
    assert ws.read("app/util.py") == FILES["app/util.py"].encode()
    assert ws.changed_paths() == ["app/core.py"]


def test_open_resumes_and_recreates_a_deleted_worktree(repo: Path) -> None:
    (repo / "README.md").write_text("user\n")
    ws = Workspace.create(repo, "r", "codeplan/x", carry_changes=["README.md"])
    ws.write("app/core.py", b"step\n")
    ws.commit("step")
    again = Workspace.open(repo, "r")
    assert (again.branch, again.base_sha, again.seed_sha) == (ws.branch, ws.base_sha, ws.seed_sha)
    shutil.rmtree(ws.toplevel)
    reopened = Workspace.open(repo, "r")
    assert reopened.read("app/core.py") == b"step\n"
    assert reopened.read("README.md") == b"user\n"
    with pytest.raises(WorkspaceError, match="no workspace for run"):
        Workspace.open(repo, "unknown")


def test_apply_on_a_clean_tree(repo: Path) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    ws.write("app/core.py", b"new core\n")
    ws.write("app/deep/new.py", b"new\n")
    ws.delete("app/util.py")
    ws.commit("step")
    ws.write("app/uncommitted.py", b"not applied\n")
    branch_before = out(repo, "branch", "--show-current")
    assert ws.apply_to_user_tree() == ["app/core.py", "app/deep/new.py", "app/util.py"]
    assert (repo / "app/core.py").read_bytes() == b"new core\n"
    assert (repo / "app/deep/new.py").read_bytes() == b"new\n"
    assert not (repo / "app/util.py").exists()
    assert not (repo / "app/uncommitted.py").exists()
    assert out(repo, "branch", "--show-current") == branch_before
    assert ws.apply_to_user_tree() == []  # already there


def test_apply_with_an_unrelated_dirty_file_and_with_carried_edits(repo: Path) -> None:
    (repo / "README.md").write_text("my notes\n")
    (repo / "app/core.py").write_text("user core\n")
    ws = Workspace.create(repo, "r", "codeplan/x", carry_changes=["app/core.py"])
    ws.write("app/core.py", b"user core, propagated\n")
    ws.write("app/util.py", b"util, propagated\n")
    ws.commit("step")
    assert ws.apply_to_user_tree() == ["app/core.py", "app/util.py"]
    assert (repo / "README.md").read_bytes() == b"my notes\n"
    assert (repo / "app/core.py").read_bytes() == b"user core, propagated\n"


def test_apply_refuses_when_a_target_is_dirty_and_writes_nothing(repo: Path) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    ws.write("app/core.py", b"run core\n")
    ws.write("app/util.py", b"run util\n")
    ws.write("app/brand_new.py", b"run new\n")
    ws.commit("step")
    (repo / "app/util.py").write_text("user util\n")
    before = snapshot(repo)
    with pytest.raises(WorkspaceError, match=r"app/util\.py") as raised:
        ws.apply_to_user_tree()
    assert "app/core.py" not in str(raised.value)
    assert snapshot(repo) == before


def test_apply_restores_written_files_when_a_write_fails(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    ws.write("app/core.py", b"run core\n")
    ws.write("app/util.py", b"run util\n")
    ws.commit("step")
    before = snapshot(repo)
    real_replace, calls = os.replace, []

    def flaky(source: str, target: str) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", target)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(WorkspaceError, match="nothing was applied"):
        ws.apply_to_user_tree()
    monkeypatch.undo()
    assert snapshot(repo) == before


def test_remove_keeps_the_branch_unless_asked(repo: Path) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    ws.write("a.py", b"A\n")
    ws.commit("step")
    ws.remove()
    assert not ws.toplevel.exists()
    assert "codeplan/x" in out(repo, "branch", "--list", "codeplan/x")
    assert "codeplan/worktrees" not in out(repo, "worktree", "list")
    reopened = Workspace.open(repo, "r")
    assert reopened.read("a.py") == b"A\n"
    reopened.remove(delete_branch=True)
    assert out(repo, "branch", "--list", "codeplan/x") == ""
    with pytest.raises(WorkspaceError, match="no workspace"):
        Workspace.open(repo, "r")


def test_commit_identity_defaults_without_touching_config(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.create(repo, "r", "codeplan/x")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{name}_NAME", raising=False)
        monkeypatch.delenv(f"GIT_{name}_EMAIL", raising=False)
    config_before = (repo / ".git/config").read_bytes()
    ws.write("a.py", b"A\n")
    ws.commit("step")
    assert out(repo, "log", "-1", "--format=%an <%ae>", "codeplan/x").strip() == (
        "CodePlan <codeplan@localhost>"
    )
    git(repo, "config", "user.name", "Someone")
    git(repo, "config", "user.email", "someone@example.com")
    ws.write("b.py", b"B\n")
    ws.commit("step 2")
    assert out(repo, "log", "-1", "--format=%an <%ae>", "codeplan/x").strip() == (
        "Someone <someone@example.com>"
    )
    assert b"CodePlan" not in config_before + (repo / ".git/config").read_bytes()


def test_working_tree_changes(repo: Path) -> None:
    assert working_tree_changes(repo) == []
    (repo / "app/core.py").write_text("changed\n")
    (repo / "app/util.py").write_text("staged\n")
    git(repo, "add", "app/util.py")
    (repo / "new/deep").mkdir(parents=True)
    (repo / "new/deep/file.py").write_text("untracked\n")
    (repo / "trace.log").write_text("ignored\n")
    git(repo, "mv", "README.md", "READ.md")
    Workspace.create(repo, "r", "codeplan/x")  # its worktree must not show up
    assert working_tree_changes(repo) == [
        "READ.md",
        "README.md",
        "app/core.py",
        "app/util.py",
        "new/deep/file.py",
    ]


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("Add a `currency` field to Product!", "add-a-currency-field-to-product"),
        ("  Ünïcödé café  ", "unicode-cafe"),
        ("rename UserID -> user_id", "rename-userid-user-id"),
        (
            "make the inventory report include every warehouse location and its stock",
            "make-the-inventory-report-include-every",
        ),
        ("x" * 60, "x" * 40),
    ],
)
def test_slugify(task: str, expected: str) -> None:
    assert slugify(task) == expected


def test_slugify_empty_gets_a_hash() -> None:
    slug = slugify("!!! ???")
    assert slug.startswith("task-") and len(slug) == len("task-") + 8
    assert slug != slugify("日本語") and slugify("日本語") == slugify("日本語")
    assert len(slugify("a b c d e f g h", max_len=5)) <= 5


def test_revision_tree_is_a_throwaway_copy_of_a_revision_at_the_folders_place(
    tmp_path: Path,
) -> None:
    from codeplan.deliver.gitops import revision_tree

    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "sub" / "a.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    (repo / "sub" / "a.py").write_text("x = 2\n")  # uncommitted: not in the copy
    with revision_tree(repo / "sub", "HEAD") as copy:
        assert (copy / "a.py").read_text() == "x = 1\n"
        assert not (copy / ".git").exists()
        kept = copy
    assert not kept.exists()
    assert (repo / "sub" / "a.py").read_text() == "x = 2\n"
    with (
        pytest.raises(WorkspaceError, match="could not export nowhere"),
        revision_tree(repo, "nowhere"),
    ):
        pass
