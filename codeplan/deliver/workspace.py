"""A run's private branch and git worktree, so the user's tree changes only on request.

A run edits a new branch checked out in `<project>/.codeplan/worktrees/<run-id>`, which
`.codeplan/.gitignore` hides from git; the user's tree, index and current branch are never
touched until `apply_to_user_tree`.  The run's branch, base commit and seed commit are kept
in `<run-id>.json` beside the worktree, so `Workspace.open` resumes with nothing else.

The project may be a subfolder of its repository: the worktree holds the whole repository,
`root` is the project inside it, and every path this API takes or returns is relative to
`root`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import git

from codeplan.deliver.apply import apply_changes
from codeplan.deliver.fileops import (
    inside,
    place,
    read_state,
    relative_path,
    write_bytes,
)
from codeplan.deliver.gitops import (
    Project,
    git_errors,
    identity_env,
    ref_exists,
    slugify,
    valid_run_id,
    working_tree_changes,
)
from codeplan.errors import WorkspaceError

__all__ = ["Workspace", "slugify", "working_tree_changes"]

SEED_MESSAGE = "codeplan: user changes (seed)"
# Keeps CodePlan's own files out of every commit, even where no .gitignore hides them.
_NOT_STATE = ":(exclude,glob)**/.codeplan/**"


@dataclass(frozen=True)
class Workspace:
    run_id: str
    branch: str
    base_sha: str  # the commit the branch started from
    seed_sha: str | None  # the commit carrying the user's uncommitted edits, if any
    toplevel: Path  # the worktree
    root: Path  # the project inside the worktree
    prefix: str  # the project's folder in the repository: "" or "sub/dir/"
    user_root: Path  # the project in the user's working tree
    _project: Project = field(repr=False, compare=False)
    _repo: git.Repo = field(repr=False, compare=False)

    @property
    def start_sha(self) -> str:
        """Where the run's own work starts: after the user's carried edits."""
        return self.seed_sha or self.base_sha

    @classmethod
    def create(
        cls,
        repo_root: Path,
        run_id: str,
        branch: str,
        *,
        base: str = "HEAD",
        carry_changes: Sequence[str] = (),
    ) -> Workspace:
        """A new worktree on a new branch from `base`; `carry_changes` (paths relative to
        the project) are copied from the user's tree and committed as the seed commit."""
        project = Project.find(repo_root)
        valid_run_id(run_id)
        base_sha = project.resolve_base(base)
        project.check_new_branch(branch)
        worktree = project.worktrees / run_id
        if worktree.exists() or _meta_path(project, run_id).exists():
            raise WorkspaceError(
                f"run {run_id} already has a workspace in {worktree}; use `codeplan resume`"
            )
        carried = [(relative_path(p), read_state(inside(project.root, p))) for p in carry_changes]
        project.ensure_state_dir()
        with git_errors(f"create the worktree for branch {branch}"):
            # A commit id (not a branch name) as start point: git then sets up no upstream
            # tracking, which would write to the user's config.
            project.repo.git.worktree("add", "-q", "-b", branch, str(worktree), base_sha)
        workspace = cls._make(project, run_id, branch, base_sha, None, worktree)
        try:
            for path, state in carried:
                place(inside(workspace.root, path), state)
            if carried:
                workspace = replace(workspace, seed_sha=workspace.commit(SEED_MESSAGE))
            workspace._save()
        except BaseException:  # even on Ctrl-C: no half-made run left to trip over
            workspace.remove(delete_branch=True)
            raise
        return workspace

    @classmethod
    def open(cls, repo_root: Path, run_id: str) -> Workspace:
        """The workspace of an existing run, re-adding its worktree if the folder is gone."""
        project = Project.find(repo_root)
        valid_run_id(run_id)
        meta = _load_meta(project, run_id)
        branch = meta["branch"]
        if not ref_exists(project.repo, f"refs/heads/{branch}"):
            raise WorkspaceError(f"branch {branch} of run {run_id} no longer exists")
        worktree = project.worktrees / run_id
        if not (worktree / ".git").is_file():
            with git_errors(f"re-create the worktree of run {run_id}"):
                project.repo.git.worktree("prune")
                if worktree.exists():
                    shutil.rmtree(worktree)  # leftovers of a broken worktree, ours alone
                project.repo.git.worktree("add", "-q", str(worktree), branch)
        return cls._make(project, run_id, branch, meta["base_sha"], meta["seed_sha"], worktree)

    @classmethod
    def _make(
        cls,
        project: Project,
        run_id: str,
        branch: str,
        base_sha: str,
        seed_sha: str | None,
        worktree: Path,
    ) -> Workspace:
        root = worktree / project.prefix if project.prefix else worktree
        repo = git.Repo(worktree)
        return cls(
            run_id, branch, base_sha, seed_sha, worktree, root, project.prefix, project.root,
            project, repo,
        )  # fmt: skip

    def read(self, path: str) -> bytes | None:
        """The file's bytes in the worktree, None when it does not exist."""
        file = inside(self.root, path)
        return file.read_bytes() if file.is_file() else None

    def write(self, path: str, data: bytes) -> None:
        write_bytes(inside(self.root, path), data)

    def delete(self, path: str) -> None:
        place(inside(self.root, path), None)

    def commit(self, message: str) -> str | None:
        """Commit everything changed in the worktree; the new commit's sha, None if nothing
        changed.  Hooks and signing are skipped: these are internal step commits."""
        self._stage()
        with git_errors("commit the run's changes"):
            if not self._repo.git.diff("--cached", "--name-only"):
                return None
            self._repo.git.commit(
                "-q", "--no-verify", "--no-gpg-sign", "-m", message, env=identity_env(self._repo)
            )
            return self._repo.head.commit.hexsha

    def squash(self, message: str) -> str | None:
        """Fold the run's step commits (after the user's seed changes) into one commit
        with `message`; its sha, None if the run changed nothing."""
        with git_errors("squash the run's commits"):
            self._repo.git.reset("--soft", self.start_sha)
        return self.commit(message)

    def reset_uncommitted(self) -> None:
        """Go back to the last commit, e.g. after a crash or an interrupt mid-step."""
        with git_errors("reset the worktree"):
            self._repo.git.reset("-q", "--hard", "HEAD")
            self._repo.git.clean("-f", "-d", "-q", "--", ".", _NOT_STATE)

    def diff(self, *, since_base: bool = True) -> str:
        """Unified diff, paths relative to `root`, of the worktree (committed and not)
        against the base commit, or, with since_base=False, against `start_sha`: the run's
        own changes without the user's carried edits."""
        self._stage()
        relative = f"--relative={self.prefix}" if self.prefix else "--no-relative"
        with git_errors("diff the run's changes"):
            text: str = self._repo.git.diff(
                "--cached", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/",
                relative, self.base_sha if since_base else self.start_sha,
                "--", self._pathspec, _NOT_STATE,
                strip_newline_in_stdout=False,
            )  # fmt: skip
        return text

    def changed_paths(self, *, since_base: bool = True) -> list[str]:
        """Paths (relative to `root`) that differ from the base commit (or `start_sha`)."""
        self._stage()
        with git_errors("list the run's changes"):
            names: str = self._repo.git.diff(
                "--cached", "--name-only", "--no-renames", "-z",
                self.base_sha if since_base else self.start_sha,
                "--", self._pathspec, _NOT_STATE,
            )  # fmt: skip
        return sorted(n[len(self.prefix) :] for n in names.split("\0") if n)

    def apply_to_user_tree(self) -> list[str]:
        """Write the run's committed changes since `start_sha` into the user's tree; the
        paths written.  Refuses, writing nothing, when a target holds other user edits."""
        with git_errors("read the run's changes"):
            tip = self._repo.commit(f"refs/heads/{self.branch}").hexsha
            return apply_changes(
                self._repo, self.start_sha, tip, self.prefix, self._project.toplevel
            )

    def remove(self, delete_branch: bool = False) -> None:
        """Remove the worktree; the branch (and so `open`) stays unless `delete_branch`."""
        self._repo.close()
        user = self._project.repo
        with git_errors(f"remove the worktree {self.toplevel}"):
            if (self.toplevel / ".git").is_file():
                user.git.worktree("remove", "--force", str(self.toplevel))
            elif self.toplevel.exists():
                shutil.rmtree(self.toplevel)
            user.git.worktree("prune")
            if delete_branch:
                if ref_exists(user, f"refs/heads/{self.branch}"):
                    user.git.branch("-D", self.branch)
                _meta_path(self._project, self.run_id).unlink(missing_ok=True)

    @property
    def _pathspec(self) -> str:
        return self.prefix or "."

    def _stage(self) -> None:
        with git_errors("stage the run's changes"):
            self._repo.git.add("-A", "--", ".", _NOT_STATE)

    def _save(self) -> None:
        meta = {"branch": self.branch, "base_sha": self.base_sha, "seed_sha": self.seed_sha}
        text = json.dumps(meta, indent=2) + "\n"
        write_bytes(_meta_path(self._project, self.run_id), text.encode())


def _meta_path(project: Project, run_id: str) -> Path:
    return project.worktrees / f"{run_id}.json"


def _load_meta(project: Project, run_id: str) -> dict[str, Any]:
    path = _meta_path(project, run_id)
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise WorkspaceError(f"no workspace for run {run_id} (no {path})") from None
    except (OSError, ValueError) as error:
        raise WorkspaceError(f"the workspace record {path} is unreadable: {error}") from error
    valid = (
        isinstance(meta, dict)
        and isinstance(meta.get("branch"), str)
        and isinstance(meta.get("base_sha"), str)
        and isinstance(meta.get("seed_sha"), (str, type(None)))
    )
    if not valid:
        raise WorkspaceError(f"the workspace record {path} is damaged")
    checked: dict[str, Any] = meta
    return checked
