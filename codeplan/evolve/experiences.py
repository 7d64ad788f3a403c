"""Past production/test co-changes, mined from git history into `.codeplan/experiences.sqlite3`.

A commit that changes a production function and, in the same commit, a test that names it
is a worked example of how tests follow code.  Every commit reachable from HEAD is walked,
newest first, merges left out (their diff is a whole branch at once; the branch's own
commits are walked instead, where pull-request histories keep their co-changes).  Every
commit looked at is remembered, so a later build only mines what is new (or what an earlier
bounded build did not reach).  The bank is derived data: a schema change wipes it, and
`rebuild()` starts it over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path

import git

from codeplan.errors import CodePlanError, ConfigError
from codeplan.evolve.mining import mine_commit
from codeplan.evolve.model import Experience
from codeplan.graph.python import PythonAnalyzer
from codeplan.storage import ensure_schema, ensure_state_dir, open_database, write_transaction
from codeplan.validate.parsers import is_test_path

BANK_FILE_NAME = "experiences.sqlite3"
# Bump whenever the tables or the mining rules (codeplan/evolve/mining.py) change: a
# mismatch wipes the bank.
SCHEMA_VERSION = "2"  # 2: co-changes that do not change what runs are left out
MAX_PY_FILES_PER_COMMIT = 40  # a sweeping reformat or rename teaches nothing about one change
MAX_FILE_BYTES = 1_000_000
_LOG_CHUNK = 200  # commits per `git log` call: well under any command-line limit

# in Experience's field order, so a row is `astuple(experience)`
_COLUMNS = (
    "commit_sha, message, production_path, production_qualname, production_before,"
    " production_after, test_path, test_qualname, test_before, test_after"
)
_TABLES = {
    "commits": "sha TEXT PRIMARY KEY, committed_at INTEGER NOT NULL, status TEXT NOT NULL",
    "experiences": f"committed_at INTEGER NOT NULL, ordinal INTEGER NOT NULL, {_COLUMNS},"
    " PRIMARY KEY (commit_sha, ordinal)",
}


@dataclass(frozen=True)
class BuildResult:
    commits_scanned: int
    commits_skipped: int  # a changed file did not parse, or the parent is not in the clone
    experiences_added: int
    total_experiences: int


@dataclass(frozen=True)
class BankStats:
    commits_mined: int
    experiences: int
    newest_commit: str | None
    top_production_files: tuple[tuple[str, int], ...]


def python_sources(
    parent: git.Commit,
    commit: git.Commit,
    prefix: str = "",
    read: Callable[[git.Blob], bytes | None] = lambda blob: blob.data_stream.read(),
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The Python files a commit changed, before and after, by path inside `prefix`; a
    file with a side `read` finds unreadable (None) is left out on both sides."""
    old: dict[str, bytes] = {}
    new: dict[str, bytes] = {}
    for item in parent.diff(commit):
        sides = [
            (side, path[len(prefix) :], read(blob))
            for side, path, blob in (
                (old, item.a_path, item.a_blob),
                (new, item.b_path, item.b_blob),
            )
            if blob is not None and path and _is_python(path) and path.startswith(prefix)
        ]
        readable = [(side, path, data) for side, path, data in sides if data is not None]
        # an unreadable side would make the other look added or deleted: drop the file
        if len(readable) == len(sides):
            for side, path, data in readable:
                side[path] = data
    return old, new


class ExperienceBank:
    """The mined co-changes of one repository (or of one project folder inside it)."""

    def __init__(self, repo_root: Path) -> None:
        try:
            self.repo = git.Repo(repo_root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
            raise ConfigError(f"{repo_root} is not inside a git repository") from error
        self.root = repo_root.resolve()
        top = Path(self.repo.working_tree_dir or self.root).resolve()
        prefix = self.root.relative_to(top).as_posix()
        self._prefix = "" if prefix == "." else prefix + "/"
        self.path = self.root / ".codeplan" / BANK_FILE_NAME
        self._db = _connect(self.path)
        # a commit's old side is often the newer commit's new side, met just before
        self._extract = lru_cache(maxsize=64)(PythonAnalyzer().extract)

    def build(
        self, max_commits: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> BuildResult:
        """Mine the commits not mined yet, newest first, at most `max_commits` of them."""
        walk = self._walk()
        mined = {row[0] for row in self._db.execute("SELECT sha FROM commits")}
        todo = [sha for sha in walk if sha not in mined][:max_commits]
        added = skipped = 0
        for done, (sha, paths) in enumerate(self._changed_paths(todo), start=1):
            commit = self.repo.commit(sha)
            found: list[Experience] | None = []
            # one parent: a root has no change to learn from, and a shallow clone's boundary
            # may list merge parents that `rev-list` (seeing a root) did not
            if len(commit.parents) == 1 and is_co_change(paths):
                message = str(commit.message).strip()
                try:
                    sources = python_sources(commit.parents[0], commit, self._prefix, _readable)
                except (git.GitCommandError, ValueError):  # a shallow clone lacks the parent
                    sources = None
                found = (
                    None if sources is None else mine_commit(sha, message, *sources, self._extract)
                )
            skipped += found is None
            added += len(found or [])
            self._record(commit, found)
            mined.add(sha)
            if progress is not None:
                progress(done, len(todo))
        newest = next((sha for sha in walk if sha in mined), None)
        if newest is not None:
            with write_transaction(self._db):
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('newest', ?)", (newest,))
        return BuildResult(len(todo), skipped, added, self._count("experiences"))

    def rebuild(
        self, max_commits: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> BuildResult:
        with write_transaction(self._db):
            for table in ("commits", "experiences"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("DELETE FROM meta WHERE key = 'newest'")
        return self.build(max_commits, progress)

    def experiences(self) -> list[Experience]:
        """Every experience, newest commit first (by place in the history, since commits of
        one second tie on time), in mining order within a commit."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM experiences ORDER BY committed_at DESC, commit_sha, ordinal"
        )
        place = {sha: number for number, sha in enumerate(self._walk())}
        found = [Experience(*row) for row in rows]
        return sorted(found, key=lambda e: place.get(e.commit, len(place)))

    def stats(self, top: int = 10) -> BankStats:
        newest = self._db.execute("SELECT value FROM meta WHERE key = 'newest'").fetchone()
        files = self._db.execute(
            "SELECT production_path, COUNT(*) AS n FROM experiences"
            " GROUP BY production_path ORDER BY n DESC, production_path LIMIT ?",
            (top,),
        )
        return BankStats(
            self._count("commits"),
            self._count("experiences"),
            newest[0] if newest else None,
            tuple((path, count) for path, count in files),
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ExperienceBank:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _walk(self) -> list[str]:
        if not self.repo.head.is_valid():  # no commit yet
            return []
        listing: str = self.repo.git.rev_list("--no-merges", "HEAD")
        return listing.split()

    def _changed_paths(self, shas: list[str]) -> Iterator[tuple[str, list[str]]]:
        """Each commit's changed paths (relative to the project folder), in the given order;
        one `git log` per chunk is far cheaper than a diff per commit."""
        for start in range(0, len(shas), _LOG_CHUNK):
            chunk = shas[start : start + _LOG_CHUNK]
            output: str = self.repo.git(c="core.quotePath=false").log(
                "--no-walk=unsorted", "--no-renames", "--name-only", "--format=%x00%H", *chunk
            )
            for sha, paths in log_entries(output):
                yield sha, [p[len(self._prefix) :] for p in paths if p.startswith(self._prefix)]

    def _record(self, commit: git.Commit, found: list[Experience] | None) -> None:
        rows = [
            (commit.committed_date, ordinal, *astuple(experience))
            for ordinal, experience in enumerate(found or [])
        ]
        status = "skipped" if found is None else "mined"
        with write_transaction(self._db):
            self._db.execute(
                "INSERT OR REPLACE INTO commits VALUES (?, ?, ?)",
                (commit.hexsha, commit.committed_date, status),
            )
            self._db.executemany(
                f"INSERT OR REPLACE INTO experiences (committed_at, ordinal, {_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def _count(self, table: str) -> int:
        count: int = self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        return count


def _is_python(path: str | None) -> bool:
    return path is not None and path.endswith(".py")


def is_co_change(paths: Iterable[str], max_files: int = MAX_PY_FILES_PER_COMMIT) -> bool:
    """Whether a commit changing these paths changed tests and other Python files, and at
    most `max_files` Python files in all."""
    python = [path for path in paths if _is_python(path)]
    tests = sum(is_test_path(path) for path in python)
    return 0 < tests < len(python) <= max_files


def log_entries(output: str) -> Iterator[tuple[str, list[str]]]:
    """Each commit of `git log --format=%x00%H --name-only` output with its changed paths."""
    for entry in output.split("\0")[1:]:
        sha, *lines = entry.strip().splitlines()
        yield sha, [line.strip('"') for line in lines if line]


def _readable(blob: git.Blob) -> bytes | None:
    """A file the bank mines; None for binary, non-UTF-8 or huge files."""
    if blob.size > MAX_FILE_BYTES:
        return None
    data: bytes = blob.data_stream.read()
    try:
        data.decode()
    except UnicodeDecodeError:
        return None
    return None if b"\0" in data else data


def _connect(path: Path) -> sqlite3.Connection:
    try:
        ensure_state_dir(path.parent)
        # a lost tail of the WAL costs only re-mining
        return open_database(path, _prepare_schema, timeout=30.0, synchronous="NORMAL")
    except (OSError, sqlite3.Error) as error:
        raise CodePlanError(
            f"cannot open the experience bank {path} ({error}); delete it to start over"
        ) from error


def _prepare_schema(connection: sqlite3.Connection) -> None:
    ensure_schema(
        connection, SCHEMA_VERSION, _TABLES, version_key="schema", label="experience bank"
    )
