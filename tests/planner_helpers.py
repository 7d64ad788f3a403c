"""Shared set-up of the planner tests: the bundled example as a fresh git repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from gitrepo import git

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "inventory"


def example_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of examples/inventory, one commit, clean."""
    root = tmp_path / "inventory-repo"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".codeplan")
    )
    (root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the example")
    return root


def status(root: Path) -> str:
    """`git status --porcelain` of the user's tree (empty when clean)."""
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def branches(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "branch", "--format=%(refname:short)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def file_bytes(root: Path) -> dict[str, bytes]:
    """Every tracked-or-not file outside .git and .codeplan, for before/after checks."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and ".codeplan" not in p.parts
    }
