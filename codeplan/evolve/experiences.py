"""Past production/test co-changes, mined from git history into `.codeplan/experiences.sqlite3`.

A commit that changes a production function and, in the same commit, a test that names it
is a worked example of how tests follow code.  History is walked along first parents,
newest first, merges left out (their first-parent diff is a whole branch at once).  Every
commit looked at is remembered, so a later build only mines what is new (or what an earlier
bounded build did not reach).  The bank is derived data: a schema change wipes it, and
`rebuild()` starts it over.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path

import git

from codeplan.edit.apply import block_text
from codeplan.errors import CodePlanError, ConfigError
from codeplan.evolve.model import Experience
from codeplan.graph.model import Block, BlockKind, FileFacts
from codeplan.graph.python import PythonAnalyzer
from codeplan.impact.diff import diff_blocks
from codeplan.storage import ensure_schema, ensure_state_dir, open_database, write_transaction
from codeplan.validate.parsers import is_test_path

BANK_FILE_NAME = "experiences.sqlite3"
# Bump whenever the tables or the mining rules change: a mismatch wipes the bank.
SCHEMA_VERSION = "1"
MAX_BLOCK_LINES = 200
MAX_PAIRS_PER_COMMIT = 20
MAX_PY_FILES_PER_COMMIT = 40  # a sweeping reformat or rename teaches nothing about one change
MAX_FILE_BYTES = 1_000_000
_LOG_CHUNK = 200  # commits per `git log` call: well under any command-line limit
_UNREADABLE = ("", b"")  # a side that exists but cannot be mined (compared by identity)

Extract = Callable[[str, bytes], FileFacts]
_PRODUCTION_KINDS = frozenset({BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.CLASS})
_TEST_KINDS = frozenset({BlockKind.FUNCTION, BlockKind.METHOD})
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
class FileChange:
    """One changed Python file of a commit; a None side is absent (added or deleted)."""

    old_path: str | None
    new_path: str | None
    old_source: bytes | None
    new_source: bytes | None


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


def mine_commit(
    sha: str, message: str, changes: Sequence[FileChange], extract: Extract | None = None
) -> list[Experience] | None:
    """The co-change pairs of one commit, or None when a changed file does not parse."""
    extract = extract or PythonAnalyzer().extract
    old = _parse(extract, ((c.old_path, c.old_source) for c in changes))
    new = _parse(extract, ((c.new_path, c.new_source) for c in changes))
    if old is None or new is None:
        return None
    (old_blocks, old_sources), (new_blocks, new_sources) = old, new
    changed = diff_blocks(old_blocks, new_blocks, old_sources, new_sources)
    # a production block that did not exist before has no change to learn from
    productions = [
        (c.old, c.new)
        for c in changed
        if c.old is not None and c.new is not None
        if c.new.kind in _PRODUCTION_KINDS and not is_test_path(c.new.path)
    ]
    tests = [
        (c.old, c.new)
        for c in changed
        if c.new is not None and c.new.kind in _TEST_KINDS and c.new.name.startswith("test")
        if is_test_path(c.new.path)
    ]
    pairs: list[tuple[bool, Experience]] = []
    for prod_old, prod in productions:
        prod_texts = _texts(prod_old, prod, old_sources, new_sources)
        mention = re.compile(rf"\b{re.escape(_mention_name(prod))}\b")
        for test_old, test in tests:
            test_texts = _texts(test_old, test, old_sources, new_sources)
            if prod_texts is None or test_texts is None or not mention.search(test_texts[1]):
                continue
            experience = Experience(
                sha, message, prod.path, prod.qualname, *prod_texts, test.path, test.qualname,
                *test_texts,
            )  # fmt: skip
            pairs.append((_mention_name(prod).lower() not in test.name.lower(), experience))
    # tests named after the block they exercise first (a stable sort keeps diff order)
    pairs.sort(key=lambda pair: pair[0])
    return [experience for _, experience in pairs[:MAX_PAIRS_PER_COMMIT]]


def _parse(
    extract: Extract, files: Iterable[tuple[str | None, bytes | None]]
) -> tuple[list[Block], dict[str, bytes]] | None:
    """One side of a commit: its files' blocks and sources; None if one does not parse."""
    blocks: list[Block] = []
    sources: dict[str, bytes] = {}
    for path, source in files:
        if path is not None and source is not None:
            facts = extract(path, source)
            if facts.syntax_error_lines:
                return None
            blocks.extend(facts.blocks)
            sources[path] = source
    return blocks, sources


def _texts(
    old: Block | None, new: Block, old_sources: dict[str, bytes], new_sources: dict[str, bytes]
) -> tuple[str, str] | None:
    """A block's text before and after ("" before when it is new); None when too long."""
    before = _text(old, old_sources) if old is not None else ""
    after = _text(new, new_sources)
    return None if before is None or after is None else (before, after)


def _text(block: Block, sources: dict[str, bytes]) -> str | None:
    """The block's text from the start of its first line; None when it is too long."""
    if block.end_line - block.start_line + 1 > MAX_BLOCK_LINES:
        return None
    return block_text(sources[block.path], block)


def _mention_name(block: Block) -> str:
    """What a test calls to exercise the block: a constructor is reached through its class."""
    if block.kind is BlockKind.METHOD and block.name == "__init__" and "." in block.qualname:
        return block.qualname.split(".")[-2]
    return block.name


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
            if len(commit.parents) == 1 and _is_co_change(paths):
                message = str(commit.message).strip()
                try:
                    changes = self._changes(commit)
                except (git.GitCommandError, ValueError):  # a shallow clone lacks the parent
                    changes = None
                found = (
                    None if changes is None else mine_commit(sha, message, changes, self._extract)
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
        listing: str = self.repo.git.rev_list("--first-parent", "--no-merges", "HEAD")
        return listing.split()

    def _changed_paths(self, shas: list[str]) -> Iterator[tuple[str, list[str]]]:
        """Each commit's changed paths (relative to the project folder), in the given order;
        one `git log` per chunk is far cheaper than a diff per commit."""
        for start in range(0, len(shas), _LOG_CHUNK):
            chunk = shas[start : start + _LOG_CHUNK]
            output: str = self.repo.git(c="core.quotePath=false").log(
                "--no-walk=unsorted", "--no-renames", "--name-only", "--format=%x00%H", *chunk
            )
            for entry in output.split("\0")[1:]:
                sha, *lines = entry.strip().splitlines()
                paths = (line.strip('"') for line in lines if line)
                yield sha, [p[len(self._prefix) :] for p in paths if p.startswith(self._prefix)]

    def _changes(self, commit: git.Commit) -> list[FileChange]:
        changes = []
        for item in commit.parents[0].diff(commit):
            old, new = (
                self._source(item.a_path, item.a_blob),
                self._source(item.b_path, item.b_blob),
            )
            # an unreadable side would make the other look added or deleted: drop the file
            if old is _UNREADABLE or new is _UNREADABLE or old is new is None:
                continue
            old_path, old_source = old or (None, None)
            new_path, new_source = new or (None, None)
            changes.append(FileChange(old_path, new_path, old_source, new_source))
        return changes

    def _source(self, path: str | None, blob: git.Blob | None) -> tuple[str, bytes] | None:
        """A Python file of the project folder: its path there and its bytes; None when the
        side is absent or not wanted, `_UNREADABLE` for binary, non-UTF-8 or huge files."""
        if blob is None or path is None or not _is_python(path):
            return None
        if not path.startswith(self._prefix):
            return None
        if blob.size > MAX_FILE_BYTES:
            return _UNREADABLE
        data: bytes = blob.data_stream.read()
        try:
            data.decode()
        except UnicodeDecodeError:
            return _UNREADABLE
        return _UNREADABLE if b"\0" in data else (path[len(self._prefix) :], data)

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


def _is_co_change(paths: list[str]) -> bool:
    python = [path for path in paths if _is_python(path)]
    tests = sum(is_test_path(path) for path in python)
    return 0 < tests < len(python) <= MAX_PY_FILES_PER_COMMIT


def _connect(path: Path) -> sqlite3.Connection:
    try:
        ensure_state_dir(path.parent)
        # a lost tail of the WAL costs only re-mining
        return open_database(path, _prepare_schema, timeout=30.0, synchronous_normal=True)
    except (OSError, sqlite3.Error) as error:
        raise CodePlanError(
            f"cannot open the experience bank {path} ({error}); delete it to start over"
        ) from error


def _prepare_schema(connection: sqlite3.Connection) -> None:
    ensure_schema(
        connection, SCHEMA_VERSION, _TABLES, version_key="schema", label="experience bank"
    )
