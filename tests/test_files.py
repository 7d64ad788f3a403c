from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from gitrepo import git

from codeplan.errors import GraphError
from codeplan.graph.files import (
    FileSelection,
    SkippedFile,
    SourceFile,
    discover_files,
    read_source,
)

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
PY = {".py"}


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's git configuration and any hook's variables out of the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES"):
        monkeypatch.delenv(variable, raising=False)


def write(root: Path, relative: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def paths(selection: FileSelection) -> list[str]:
    return [f.path for f in selection.files]


def make_clutter(root: Path) -> None:
    """Folders that must never be analysed, each holding a .py file."""
    for folder in (
        "node_modules/pkg",
        "src/__pycache__",
        ".tox/py311",
        ".nox/s",
        ".mypy_cache",
        ".pytest_cache",
        ".codeplan",
        "build/lib",
        "dist",
        "lib/site-packages/requests",
        "mypkg.egg-info",
        "src/vendor/six",
        "pip/_vendor",
        "third_party/x",
        ".hg",
        ".venv/lib",
    ):
        write(root, f"{folder}/junk.py")
    # A virtualenv under an arbitrary name is recognised by its pyvenv.cfg.
    write(root, "tools/myenv/pyvenv.cfg", "home = /usr/bin\n")
    write(root, "tools/myenv/lib/python3.11/site.py")
    # `venv` with an interpreter is an environment ...
    write(root, "venv/bin/python", "")
    write(root, "venv/lib/thing.py")
    # ... but a package that happens to be called `env` is source code.
    write(root, "app/env/__init__.py")
    write(root, "app/env/settings.py")


def test_walk_outside_git_applies_standard_exclusions(tmp_path: Path) -> None:
    write(tmp_path, "main.py")
    write(tmp_path, "src/pkg/core.py")
    write(tmp_path, "src/pkg/readme.md", "# doc\n")
    make_clutter(tmp_path)
    selection = discover_files(tmp_path, PY)
    assert paths(selection) == [
        "app/env/__init__.py",
        "app/env/settings.py",
        "main.py",
        "src/pkg/core.py",
    ]
    assert selection.skipped == ()


@needs_git
def test_git_lists_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, ".gitignore", "generated/\n*_gen.py\n")
    write(tmp_path, "tracked.py")
    write(tmp_path, "pkg/also_tracked.py")
    write(tmp_path, "doomed.py")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "init")
    (tmp_path / "doomed.py").unlink()  # still in the index, gone from disk
    write(tmp_path, "new_untracked.py")
    write(tmp_path, "generated/out.py")
    write(tmp_path, "pkg/schema_gen.py")
    make_clutter(tmp_path)  # untracked and not ignored: the built-in rules must catch it
    assert paths(discover_files(tmp_path, PY)) == [
        "app/env/__init__.py",
        "app/env/settings.py",
        "new_untracked.py",
        "pkg/also_tracked.py",
        "tracked.py",
    ]


@needs_git
def test_tracked_file_inside_excluded_folder_is_still_excluded(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, "node_modules/lib/index.js", "module.exports = 1;\n")
    write(tmp_path, "src/app.js", "export const a = 1;\n")
    git(tmp_path, "add", ".")
    assert paths(discover_files(tmp_path, {".js"})) == ["src/app.js"]


@needs_git
def test_nested_root_gives_paths_relative_to_it(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, ".gitignore", "ignored.py\n")
    write(tmp_path, "outside.py")
    write(tmp_path, "services/api/handler.py")
    write(tmp_path, "services/api/ignored.py")
    write(tmp_path, "services/api/sub/util.py")
    git(tmp_path, "add", "services/api/handler.py")
    selection = discover_files(tmp_path / "services" / "api", PY)
    assert paths(selection) == ["handler.py", "sub/util.py"]


@pytest.mark.parametrize("use_git", [False, pytest.param(True, marks=needs_git)])
def test_exclusions_apply_below_the_root_not_above_it(tmp_path: Path, use_git: bool) -> None:
    if use_git:
        git(tmp_path, "init", "-q")
    write(tmp_path, "third_party/lib/core.py")
    write(tmp_path, "third_party/lib/pkg/util.py")
    write(tmp_path, "third_party/lib/build/gen.py")
    root = tmp_path / "third_party" / "lib"
    assert paths(discover_files(root, PY)) == ["core.py", "pkg/util.py"]


@pytest.mark.parametrize("use_git", [False, pytest.param(True, marks=needs_git)])
def test_user_exclude_patterns(tmp_path: Path, use_git: bool) -> None:
    if use_git:
        git(tmp_path, "init", "-q")
    write(tmp_path, "pkg/model.py")
    write(tmp_path, "pkg/model_pb2.py")
    write(tmp_path, "tests/fixtures/sample.py")
    write(tmp_path, "tests/test_model.py")
    write(tmp_path, "docs/conf.py")
    write(tmp_path, "scratch/deep/tmp.py")
    selection = discover_files(
        tmp_path, PY, exclude=["*_pb2.py", "tests/fixtures", "docs/*.py", "scratch"]
    )
    assert paths(selection) == ["pkg/model.py", "tests/test_model.py"]


def test_only_requested_extensions(tmp_path: Path) -> None:
    for name in ("a.py", "b.js", "c.ts", "d.txt", "Makefile", "e.pyc"):
        write(tmp_path, name)
    assert paths(discover_files(tmp_path, {".py", ".ts"})) == ["a.py", "c.ts"]
    assert paths(discover_files(tmp_path, set())) == []
    assert paths(discover_files(tmp_path, ".js", exclude="a.py")) == ["b.js"]


@pytest.mark.parametrize("use_git", [False, pytest.param(True, marks=needs_git)])
def test_too_large_files_are_skipped_without_reading(tmp_path: Path, use_git: bool) -> None:
    if use_git:
        git(tmp_path, "init", "-q")
    write(tmp_path, "small.py", "x = 1\n")
    write(tmp_path, "huge.py", "y = 2\n" * 100)
    selection = discover_files(tmp_path, PY, max_bytes=100)
    assert selection.files == (SourceFile("small.py"),)
    assert selection.skipped == (SkippedFile("huge.py", "too-large"),)


@pytest.mark.parametrize("use_git", [False, pytest.param(True, marks=needs_git)])
def test_symlinks_leaving_root_are_ignored(tmp_path: Path, use_git: bool) -> None:
    root = tmp_path / "repo"
    outside = write(tmp_path, "elsewhere/secret.py")
    write(root, "real.py")
    if use_git:
        git(root, "init", "-q")
    (root / "escape.py").symlink_to(outside)
    (root / "alias.py").symlink_to(root / "real.py")
    (root / "dangling.py").symlink_to(root / "missing.py")
    (root / "linked_dir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert paths(discover_files(root, PY)) == ["alias.py", "real.py"]


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(GraphError):
        discover_files(tmp_path / "missing", PY)
    with pytest.raises(GraphError):
        discover_files(write(tmp_path, "file.py"), PY)


@needs_git
def test_ten_thousand_files_are_discovered_quickly(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    for package in range(100):
        folder = tmp_path / f"pkg{package:03d}"
        folder.mkdir()
        for module in range(100):
            (folder / f"mod{module:03d}.py").write_bytes(b"x = 1\n")
    start = time.perf_counter()
    selection = discover_files(tmp_path, PY)
    elapsed = time.perf_counter() - start
    assert len(selection.files) == 10_000
    assert paths(selection) == sorted(paths(selection))
    assert elapsed < 2.0, f"discovery took {elapsed:.2f}s"


def test_read_source_returns_utf8_bytes_unchanged(tmp_path: Path) -> None:
    content = "\ufeffname = 'café'\n".encode()
    write(tmp_path, "bom.py", content)
    assert read_source(tmp_path, "bom.py") == content


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "binary"),
        (b"x = 1\n" * 100 + b"\x00", "binary"),
        ("name = 'café'\n".encode("latin-1"), "non-utf8"),
        (b"ok = 1\n" * 1000, "too-large"),
    ],
)
def test_read_source_reports_unusable_content(tmp_path: Path, content: bytes, reason: str) -> None:
    write(tmp_path, "f.py", content)
    assert read_source(tmp_path, "f.py", max_bytes=1000) == SkippedFile("f.py", reason)


def test_nul_after_sniff_window_is_not_binary_but_still_checked(tmp_path: Path) -> None:
    content = b"# " + b"a" * 9000 + b"\x00\n"
    write(tmp_path, "late_nul.py", content)
    assert read_source(tmp_path, "late_nul.py") == content


def test_read_source_reports_unreadable_paths(tmp_path: Path) -> None:
    assert read_source(tmp_path, "missing.py") == SkippedFile("missing.py", "unreadable")
    (tmp_path / "folder.py").mkdir()
    assert read_source(tmp_path, "folder.py") == SkippedFile("folder.py", "unreadable")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_read_source_reports_permission_denied(tmp_path: Path) -> None:
    locked = write(tmp_path, "locked.py")
    locked.chmod(0)
    try:
        assert read_source(tmp_path, "locked.py") == SkippedFile("locked.py", "unreadable")
    finally:
        locked.chmod(0o644)


def test_a_root_that_its_repository_ignores_is_walked(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("downloads/\n")
    project = tmp_path / "downloads" / "project"
    project.mkdir(parents=True)
    (project / "a.py").write_text("x = 1\n")
    selection = discover_files(project, {".py"})
    assert [f.path for f in selection.files] == ["a.py"]
