"""Which files of a repository the graph builder analyses, and reading them safely.

Discovery respects version control: inside a git work tree it takes tracked files plus
untracked files that are not ignored, so generated and ignored clutter never enters the
graph.  Environments, caches, build output and vendored code are always left out, git or
not, because they are large and never what a user wants to edit.  Discovery only stats
files; contents are checked by `read_source`, which reports binary, non-UTF-8, oversized
or unreadable files as skipped instead of raising.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import posixpath
import stat
import subprocess
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from codeplan.errors import GraphError

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2_000_000
BINARY_SNIFF_BYTES = 8192

# Tooling state, build output and other people's code, at any depth.
EXCLUDED_DIR_NAMES = frozenset(
    {
        ".codeplan",
        ".git",
        ".hg",
        ".mypy_cache",
        ".nox",
        ".pytest_cache",
        ".tox",
        ".venv",
        "__pycache__",
        "_vendor",
        "build",
        "dist",
        "node_modules",
        "site-packages",
        "third_party",
        "vendor",
    }
)
EXCLUDED_DIR_GLOBS = ("*.egg-info",)

# `venv` and `env` are also plausible package names, so a folder is treated as an
# environment only when it has an environment's telltale files.
_ENVIRONMENT_MARKERS = ("pyvenv.cfg", "conda-meta")
_ENVIRONMENT_INTERPRETERS = ("bin/python", "Scripts/python.exe")
_ENVIRONMENT_DIR_NAMES = frozenset({"venv", "env"})

# Variables a git hook may set that would point git at another repository or index
# than the one containing `root`.
_GIT_REDIRECTING_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")


@dataclass(frozen=True)
class SourceFile:
    path: str  # posix, relative to the discovery root


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str  # "binary" | "non-utf8" | "too-large" | "unreadable"


@dataclass(frozen=True)
class FileSelection:
    files: tuple[SourceFile, ...]  # sorted by path
    skipped: tuple[SkippedFile, ...]  # sorted by path


def discover_files(
    root: Path,
    extensions: Collection[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    exclude: Collection[str] = (),
) -> FileSelection:
    """The files under `root` with a suffix in `extensions` (such as ".py"), minus exclusions.

    `exclude` holds fnmatch patterns matched against posix paths relative to `root` and
    their parent folders; a pattern without "/" also matches any single path component.
    """
    return start_discovery(root, extensions, max_bytes=max_bytes, exclude=exclude)()


def start_discovery(
    root: Path,
    extensions: Collection[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    exclude: Collection[str] = (),
) -> Callable[[], FileSelection]:
    """`discover_files`, started: git lists the files while the caller does something
    else (a build opens its cache meanwhile), and calling the result finishes it."""
    if not root.is_dir():
        raise GraphError(f"{root} is not a directory")
    listing = _GitListing(root)

    def finish() -> FileSelection:
        return _select(root, extensions, listing.result(), max_bytes, exclude)

    return finish


def _select(
    root: Path,
    extensions: Collection[str],
    listed: list[str] | None,
    max_bytes: int,
    exclude: Collection[str],
) -> FileSelection:
    # A lone string is a Collection[str] too: take it as one item, not as characters.
    wanted_suffixes = frozenset([extensions] if isinstance(extensions, str) else extensions)
    path_filter = _PathFilter(root, [exclude] if isinstance(exclude, str) else exclude)
    candidates = _walk(root, path_filter) if listed is None else iter(listed)

    root_real = os.path.realpath(root)
    files: list[SourceFile] = []
    skipped: list[SkippedFile] = []
    for relative in sorted(set(candidates)):
        if posixpath.splitext(relative)[1] not in wanted_suffixes:
            continue
        if path_filter.file_excluded(relative):
            continue
        verdict = _stat_candidate(root, root_real, relative, max_bytes)
        if isinstance(verdict, SourceFile):
            files.append(verdict)
        elif isinstance(verdict, SkippedFile):
            skipped.append(verdict)
    return FileSelection(tuple(files), tuple(skipped))


def read_source(
    root: Path, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes | SkippedFile:
    """The bytes of `root/path` if they are UTF-8 text (a BOM is kept), else why not."""
    try:
        with open(os.path.join(root, path), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return SkippedFile(path, "unreadable")
    return check_source(path, data, max_bytes=max_bytes)


def check_source(
    path: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes | SkippedFile:
    """`data` if it is UTF-8 text CodePlan analyses, else why not (also for contents that
    come from git or an editor rather than the disk)."""
    if len(data) > max_bytes:
        return SkippedFile(path, "too-large")
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return SkippedFile(path, "binary")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return SkippedFile(path, "non-utf8")
    return data


class _PathFilter:
    """Exclusion decisions, memoised per folder since thousands of files share a few."""

    def __init__(self, root: Path, exclude: Collection[str]) -> None:
        self._root = root
        self._component_patterns = tuple(p for p in exclude if "/" not in p)
        self._path_patterns = tuple(p.strip("/") for p in exclude if "/" in p)
        self._folder_verdicts: dict[str, bool] = {"": False}

    def file_excluded(self, relative: str) -> bool:
        folder, name = posixpath.split(relative)
        return self.folder_excluded(folder) or self._matches_user_pattern(relative, name)

    def folder_excluded(self, relative: str) -> bool:
        verdict = self._folder_verdicts.get(relative)
        if verdict is None:
            parent, name = posixpath.split(relative)
            verdict = (
                self.folder_excluded(parent)
                or name in EXCLUDED_DIR_NAMES
                or any(fnmatch.fnmatchcase(name, glob) for glob in EXCLUDED_DIR_GLOBS)
                or self._matches_user_pattern(relative, name)
                or self._is_environment(relative, name)
            )
            self._folder_verdicts[relative] = verdict
        return verdict

    def _matches_user_pattern(self, relative: str, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self._component_patterns) or any(
            fnmatch.fnmatchcase(relative, p) for p in self._path_patterns
        )

    def _is_environment(self, relative: str, name: str) -> bool:
        folder = os.path.join(self._root, relative)
        markers: tuple[str, ...] = _ENVIRONMENT_MARKERS
        if name in _ENVIRONMENT_DIR_NAMES:
            markers += _ENVIRONMENT_INTERPRETERS
        return any(os.path.lexists(os.path.join(folder, marker)) for marker in markers)


class _GitListing:
    """Tracked plus untracked-but-not-ignored paths relative to `root`, from a `git
    ls-files` started on construction; None outside git."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._environment = {
            k: v for k, v in os.environ.items() if k not in _GIT_REDIRECTING_VARIABLES
        }
        command = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command,
                cwd=root,
                env=self._environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
            )
        except OSError:  # no git installed
            self._process = None

    def result(self) -> list[str] | None:
        if self._process is None:
            return None
        stdout, stderr = self._process.communicate()
        if self._process.returncode != 0:
            message = stderr.decode(errors="replace").strip()
            if "not a git repository" not in message:
                logger.warning(
                    "git ls-files failed in %s (%s); walking the folder instead",
                    self._root,
                    message,
                )
            return None
        listed = [os.fsdecode(raw) for raw in stdout.split(b"\0") if raw]
        if not listed and _ignored_by_enclosing_repository(self._root, self._environment):
            # the user pointed at a folder their repository ignores (a download, a
            # checkout of another project): they want its files, so walk it
            return None
        return listed


def _ignored_by_enclosing_repository(root: Path, environment: dict[str, str]) -> bool:
    completed = subprocess.run(
        ["git", "check-ignore", "-q", "."], cwd=root, env=environment, capture_output=True
    )
    return completed.returncode == 0


def _walk(root: Path, path_filter: _PathFilter) -> Iterator[str]:
    root_text = os.fspath(root)
    for folder, subfolders, names in os.walk(root_text):
        relative_folder = os.path.relpath(folder, root_text).replace(os.sep, "/")
        if relative_folder == ".":
            relative_folder = ""
        # Pruning in place stops os.walk from descending into excluded folders at all.
        subfolders[:] = [
            name
            for name in subfolders
            if not path_filter.folder_excluded(posixpath.join(relative_folder, name))
        ]
        for name in names:
            yield posixpath.join(relative_folder, name)


def _stat_candidate(
    root: Path, root_real: str, relative: str, max_bytes: int
) -> SourceFile | SkippedFile | None:
    """None for paths that are not regular files inside root (gone, dangling, escaping)."""
    full_path = os.path.join(root, relative)
    try:
        info = os.lstat(full_path)
        if stat.S_ISLNK(info.st_mode):
            if not _is_within(root_real, os.path.realpath(full_path)):
                return None
            info = os.stat(full_path)
    except (FileNotFoundError, NotADirectoryError):
        return None  # deleted but still tracked, or a dangling link
    except OSError:
        return SkippedFile(relative, "unreadable")
    if not stat.S_ISREG(info.st_mode):
        return None
    if info.st_size > max_bytes:
        return SkippedFile(relative, "too-large")
    return SourceFile(relative)


def _is_within(folder: str, path: str) -> bool:
    try:
        return os.path.commonpath([folder, path]) == folder
    except ValueError:  # different drives on Windows
        return False
