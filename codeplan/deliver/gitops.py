"""Git plumbing for workspaces: the user's repository, branch names, status, identity."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tarfile
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from codeplan import storage
from codeplan.deliver.fileops import STATE_DIR
from codeplan.errors import WorkspaceError

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_DEFAULT_IDENTITY = {"name": "CodePlan", "email": "codeplan@localhost"}


@dataclass(frozen=True)
class Project:
    """The user's side: their repository and the analysed folder inside it."""

    repo: git.Repo
    toplevel: Path  # the user's working tree
    root: Path  # the analysed folder
    prefix: str  # the analysed folder relative to `toplevel`: "" or "sub/dir/"

    @classmethod
    def find(cls, folder: Path) -> Project:
        folder = Path(folder).resolve()
        if not folder.is_dir():
            raise WorkspaceError(f"{folder} is not a folder")
        try:
            repo = git.Repo(folder, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
            raise WorkspaceError(
                f"{folder} is not inside a git repository; CodePlan works on a branch of one"
                " (`git init` and commit the project first)"
            ) from error
        if repo.working_tree_dir is None:
            raise WorkspaceError(f"{folder} is inside a bare git repository")
        toplevel = Path(repo.working_tree_dir).resolve()
        prefix = folder.relative_to(toplevel).as_posix()
        return cls(repo, toplevel, folder, "" if prefix == "." else prefix + "/")

    @property
    def worktrees(self) -> Path:
        return self.root / STATE_DIR / "worktrees"

    def ensure_state_dir(self) -> None:
        storage.ensure_state_dir(self.root / STATE_DIR)  # its .gitignore hides the worktrees

    def resolve_base(self, base: str) -> str:
        if not self.repo.head.is_valid() and base == "HEAD":
            raise WorkspaceError(
                f"the repository at {self.toplevel} has no commits yet; commit the project first"
            )
        try:
            sha: str = self.repo.git.rev_parse("--verify", "--quiet", f"{base}^{{commit}}")
        except git.GitCommandError:
            raise WorkspaceError(f"unknown base revision {base!r}") from None
        return sha

    def check_new_branch(self, branch: str) -> None:
        try:
            self.repo.git.check_ref_format("--branch", branch)
        except git.GitCommandError:
            raise WorkspaceError(f"{branch!r} is not a valid branch name") from None
        if self._branch_exists(branch):
            suggestion = next(
                f"{branch}-{n}"
                for n in range(2, 10_000)
                if not self._branch_exists(f"{branch}-{n}")
            )
            raise WorkspaceError(
                f"branch {branch} already exists: choose another name (e.g. {suggestion}),"
                " or continue that run with `codeplan resume`"
            )

    def _branch_exists(self, branch: str) -> bool:
        return ref_exists(self.repo, f"refs/heads/{branch}")


def working_tree_changes(repo_root: Path) -> list[str]:
    """Paths (relative to `repo_root`, which may be a subfolder of the repository) that are
    modified, staged, deleted or untracked and not ignored: the user's uncommitted edits."""
    project = Project.find(repo_root)
    with git_errors("read the working tree's status"):
        status: str = project.repo.git.status(
            "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
            "--", project.prefix or ".",
        )  # fmt: skip
    paths = {entry[3:] for entry in status.split("\0") if len(entry) > 3}
    return sorted(
        path[len(project.prefix) :]
        for path in paths
        if path.startswith(project.prefix) and STATE_DIR not in PurePosixPath(path).parts
    )


def slugify(task: str, max_len: int = 40) -> str:
    """A branch-name-safe slug of a task description: ascii, lowercase, dashes."""
    ascii_text = unicodedata.normalize("NFKD", task).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_len:
        cut = slug[:max_len]
        # Cut at a word boundary unless that throws most of the room away.
        slug = cut.rsplit("-", 1)[0] if "-" in cut[max_len // 2 :] else cut
        slug = slug.rstrip("-")
    if not slug:
        slug = "task-" + hashlib.sha1(task.encode()).hexdigest()[:8]
    return slug


def valid_run_id(run_id: str) -> None:
    if not _RUN_ID.match(run_id):
        raise WorkspaceError(f"{run_id!r} is not a valid run id (letters, digits, '.', '_', '-')")


def ref_exists(repo: git.Repo, ref: str) -> bool:
    try:
        repo.git.rev_parse("--verify", "--quiet", ref)
    except git.GitCommandError:
        return False
    return True


def identity_env(repo: git.Repo) -> dict[str, str]:
    """Environment giving commits a default identity where the user configured none; the
    user's git config is never written."""
    env: dict[str, str] = {}
    for key, default in _DEFAULT_IDENTITY.items():
        try:
            if repo.git.config("--get", f"user.{key}"):
                continue
        except git.GitCommandError:
            pass  # not configured
        for role in ("AUTHOR", "COMMITTER"):
            variable = f"GIT_{role}_{key.upper()}"
            if not os.environ.get(variable):
                env[variable] = default
    return env


@contextmanager
def git_errors(action: str) -> Iterator[None]:
    """Turns a failed git command into a WorkspaceError saying what could not be done."""
    try:
        yield
    except git.GitCommandError as error:
        detail = str(error.stderr or "").strip().removeprefix("stderr:").strip(" '\n")
        raise WorkspaceError(f"could not {action}: {detail or error}") from error


@contextmanager
def revision_tree(folder: Path, revision: str) -> Iterator[Path]:
    """A temporary copy of `revision`'s files; yields where `folder` (the repository's
    working tree or a folder inside it) lies in that copy.  The repository is untouched."""
    with git.Repo(folder, search_parent_directories=True) as repo:
        top = Path(repo.working_tree_dir or folder).resolve()
        data = io.BytesIO()
        with git_errors(f"export {revision}"):
            repo.archive(data, revision, format="tar")
    data.seek(0)
    with tempfile.TemporaryDirectory(prefix="codeplan-tree-") as scratch:
        with tarfile.open(fileobj=data) as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(scratch, filter="data")
            else:  # pragma: no cover - Pythons without extraction filters
                archive.extractall(scratch)  # a tree git itself wrote
        yield Path(scratch) / folder.resolve().relative_to(top)
