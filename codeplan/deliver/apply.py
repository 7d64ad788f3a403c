"""Bringing a run's committed changes into the user's working tree, all or nothing.

Every target is checked before anything is written: a file may be overwritten only when
the user's copy is still what the run started from (or already what it ends with).  The
writes are atomic one by one, and a failure part-way restores the files already written,
so the user never sees a half-applied result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from codeplan.deliver.fileops import (
    STATE_DIR,
    FileState,
    inside,
    place,
    prune_empty_parents,
    read_state,
)
from codeplan.errors import WorkspaceError

_LINK_MODE = 0o120000
_EXECUTABLE_MODE = 0o100755


@dataclass(frozen=True)
class _Change:
    path: str  # relative to the analysed folder
    target: Path
    before: FileState | None  # the user's copy now, to restore on failure
    after: FileState | None


def apply_changes(
    repo: git.Repo, start: str, tip: str, prefix: str, user_toplevel: Path
) -> list[str]:
    """Write the changes from `start` to `tip` under `prefix` into `user_toplevel`.

    Returns the paths written (relative to the analysed folder); raises WorkspaceError,
    having written nothing, when a target holds user edits the run did not start from.
    """
    start_commit, tip_commit = repo.commit(start), repo.commit(tip)
    changes: list[_Change] = []
    conflicts: list[str] = []
    for path in _changed(repo, start, tip, prefix):
        relative = path[len(prefix) :]
        started, ends = _blob_state(start_commit, path), _blob_state(tip_commit, path)
        target = inside(user_toplevel, path)
        try:
            current = read_state(target)
        except WorkspaceError:
            conflicts.append(relative)  # a folder stands where the file should go
            continue
        if _same(current, ends):
            continue
        if not _same(current, started):
            conflicts.append(relative)
            continue
        changes.append(_Change(relative, target, current, ends))
    if conflicts:
        listed = "\n  ".join(conflicts)
        raise WorkspaceError(
            "not applied: these files have changes of yours that the run did not start from"
            f" (commit, stash or undo them, then apply again):\n  {listed}"
        )
    _write_all(changes, user_toplevel)
    return sorted(change.path for change in changes)


def _write_all(changes: list[_Change], user_toplevel: Path) -> None:
    written: list[_Change] = []
    try:
        for change in changes:
            place(change.target, change.after)
            written.append(change)
            if change.after is None:
                prune_empty_parents(change.target, user_toplevel)
    except BaseException as error:  # an interrupt must not leave a half-applied tree either
        for change in reversed(written):
            try:
                place(change.target, change.before)
            except OSError:
                continue  # keep restoring the others; the first error is what is reported
        if isinstance(error, OSError):
            raise WorkspaceError(
                f"could not write {error.filename or 'a file'} ({error.strerror or error});"
                " nothing was applied"
            ) from error
        raise


def _changed(repo: git.Repo, start: str, tip: str, prefix: str) -> list[str]:
    names = repo.git.diff("--name-only", "--no-renames", "-z", start, tip, "--", prefix or ".")
    return [
        name
        for name in names.split("\0")
        if name and name.startswith(prefix) and STATE_DIR not in PurePosixPath(name).parts
    ]


def _blob_state(commit: git.Commit, path: str) -> FileState | None:
    try:
        entry = commit.tree / path
    except KeyError:
        return None
    if entry.type != "blob":
        raise WorkspaceError(f"cannot apply the change to {path}: it is a {entry.type}")
    data: bytes = entry.data_stream.read()
    return FileState(data, link=entry.mode == _LINK_MODE, executable=entry.mode == _EXECUTABLE_MODE)


def _same(left: FileState | None, right: FileState | None) -> bool:
    if left is None or right is None:
        return left is right
    return left.content == right.content
