"""File operations for workspaces: safe relative paths and atomic writes.

Every write goes to a temporary file in the target's folder and is renamed over the
target, so an interrupted run leaves either the old or the new contents, never half a file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codeplan.errors import WorkspaceError

STATE_DIR = ".codeplan"
_TEMP_PREFIX = ".codeplan-tmp-"
# Git's own folder breaks the worktree if touched; CodePlan's folder is never committed,
# so a file written there would silently vanish from the run's result.
_RESERVED = frozenset({".git", STATE_DIR})


@dataclass(frozen=True)
class FileState:
    """What git records of a file: its bytes (a symlink's target) and its kind."""

    data: bytes
    link: bool = False
    executable: bool = False

    @property
    def content(self) -> tuple[bytes, bool]:
        """What must match for two files to count as the same (the mode bit may drift)."""
        return self.data, self.link


def relative_path(path: str | os.PathLike[str]) -> PurePosixPath:
    """`path` as a clean relative path, refusing anything that could leave its folder."""
    text = os.fspath(path)
    pure = PurePosixPath(text)
    if not text or pure.is_absolute() or Path(text).is_absolute():
        raise WorkspaceError(f"path {text!r} must be relative to the project folder")
    parts = [part for part in pure.parts if part != "."]
    if not parts or ".." in parts:
        raise WorkspaceError(f"path {text!r} leaves the project folder")
    if _RESERVED.intersection(parts):
        raise WorkspaceError(f"path {text!r} is inside {'/'.join(_RESERVED & set(parts))}/")
    return PurePosixPath(*parts)


def inside(root: Path, path: str | os.PathLike[str]) -> Path:
    """The file `path` under `root`, refusing paths that escape through a symlink."""
    relative = relative_path(path)
    target = root / relative
    real_root = root.resolve()
    # The file itself may be a symlink (it is replaced, not followed); its folder may not.
    if not target.parent.resolve().is_relative_to(real_root):
        raise WorkspaceError(f"path {relative} leaves the project folder through a symlink")
    return target


def read_state(path: Path) -> FileState | None:
    """The file at `path` as git would see it; None when there is none."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return FileState(os.fsencode(os.readlink(path)), link=True)
    if stat.S_ISDIR(info.st_mode):
        raise WorkspaceError(f"{path} is a folder where a file was expected")
    return FileState(path.read_bytes(), executable=bool(info.st_mode & stat.S_IXUSR))


def write_bytes(path: Path, data: bytes) -> None:
    """Atomically replace `path`'s contents, keeping its permissions when it exists."""
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    _replace(path, lambda temp: _write_temp(temp, data, mode))


def place(path: Path, state: FileState | None) -> None:
    """Make `path` hold `state` (None: delete it), atomically."""
    if state is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    if state.link:
        _replace(path, lambda temp: os.symlink(os.fsdecode(state.data), temp))
        return
    mode = 0o777 if state.executable else 0o666  # narrowed by the umask, as git does
    _replace(path, lambda temp: _write_temp(temp, state.data, None, create_mode=mode))


def prune_empty_parents(path: Path, stop: Path) -> None:
    """Remove the folders above a deleted file that became empty, as git does, up to `stop`."""
    folder = path.parent
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _replace(path: Path, make: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.parent / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
    try:
        make(temp)
        os.replace(temp, path)
    except BaseException:  # an interrupt must not leave the temporary file behind either
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _write_temp(temp: Path, data: bytes, mode: int | None, create_mode: int = 0o666) -> None:
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, create_mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if mode is not None:
        os.chmod(temp, mode)
