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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path

import git

from codeplan.edit.apply import block_text
from codeplan.errors import CodePlanError, ConfigError
from codeplan.evolve.model import Experience
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind, FileFacts
from codeplan.graph.python import PythonAnalyzer
from codeplan.impact.diff import BlockChange, diff_blocks
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


@dataclass(frozen=True)
class CoChangeRules:
    """Which changed blocks of one commit pair up as co-changes, and how many pairs it
    gives.  The bank's are `BANK_RULES`; the "history" evidence has its own
    (codeplan/evolve/history.py)."""

    # the block a change of production code is recorded as; None: not one
    production: Callable[[BlockChange], Block | None]
    # likewise for a test function; the graph holds the blocks before the commit
    test: Callable[[BlockChange, CodeGraph], Block | None]
    named: bool = True  # the test's text after the commit must name the production block
    max_lines: int | None = MAX_BLOCK_LINES  # a pair with a longer block is left out
    max_pairs: int | None = MAX_PAIRS_PER_COMMIT  # tests named after the block first
    strict: bool = True  # a changed file that does not parse skips the whole commit


def _bank_production(change: BlockChange) -> Block | None:
    # a production block that did not exist before has no change to learn from
    old, new = change.old, change.new
    if old is None or new is None or new.kind not in _PRODUCTION_KINDS or is_test_path(new.path):
        return None
    return new


def _bank_test(change: BlockChange, graph: CodeGraph) -> Block | None:
    new = change.new
    if new is None or new.kind not in _TEST_KINDS or not new.name.startswith("test"):
        return None
    return new if is_test_path(new.path) else None


BANK_RULES = CoChangeRules(_bank_production, _bank_test)


def mine_commit(
    sha: str,
    message: str,
    old_sources: dict[str, bytes],
    new_sources: dict[str, bytes],
    extract: Extract | None = None,
    rules: CoChangeRules = BANK_RULES,
) -> list[Experience] | None:
    """The co-change pairs of one commit from the Python files it changed, before and
    after (by path); None when a changed file does not parse and the rules are strict."""
    extract = extract or PythonAnalyzer().extract
    old_blocks, old_broken = parse_files(old_sources, extract)
    new_blocks, new_broken = parse_files(new_sources, extract)
    if rules.strict and (old_broken or new_broken):
        return None
    changed = diff_blocks(old_blocks, new_blocks, old_sources, new_sources)
    old_graph = graph_of(old_blocks)
    productions = [(b, c) for c in changed if (b := rules.production(c)) is not None]
    tests = [(b, c) for c in changed if (b := rules.test(c, old_graph)) is not None]
    pairs: list[tuple[bool, Experience]] = []
    for prod, prod_change in productions:
        prod_texts = _texts(prod_change, old_sources, new_sources, rules.max_lines)
        mention = re.compile(rf"\b{re.escape(_mention_name(prod))}\b")
        for test, test_change in tests:
            test_texts = _texts(test_change, old_sources, new_sources, rules.max_lines)
            if prod_texts is None or test_texts is None:
                continue
            if rules.named and not mention.search(test_texts[1]):
                continue
            experience = Experience(
                sha, message, prod.path, prod.qualname, *prod_texts, test.path, test.qualname,
                *test_texts,
            )  # fmt: skip
            pairs.append((_mention_name(prod).lower() not in test.name.lower(), experience))
    if rules.max_pairs is not None:
        # tests named after the block they exercise first (a stable sort keeps diff order)
        pairs.sort(key=lambda pair: pair[0])
        pairs = pairs[: rules.max_pairs]
    return [experience for _, experience in pairs]


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


def parse_files(sources: dict[str, bytes], extract: Extract) -> tuple[list[Block], bool]:
    """The blocks of some files, and whether one of them does not parse."""
    blocks: list[Block] = []
    broken = False
    for path, source in sources.items():
        facts = extract(path, source)
        broken = broken or bool(facts.syntax_error_lines)
        blocks.extend(facts.blocks)
    return blocks, broken


def graph_of(blocks: Iterable[Block]) -> CodeGraph:
    """A graph of the blocks without relations (enough for `is_test`'s look at a method's
    class)."""
    graph = CodeGraph()
    for block in blocks:
        graph.add_block(block)
    return graph


def _texts(
    change: BlockChange,
    old_sources: dict[str, bytes],
    new_sources: dict[str, bytes],
    max_lines: int | None,
) -> tuple[str, str] | None:
    """A block's text before and after ("" for a side that is absent); None when a side
    is too long or not UTF-8."""
    before = _text(change.old, old_sources, max_lines)
    after = _text(change.new, new_sources, max_lines)
    return None if before is None or after is None else (before, after)


def _text(block: Block | None, sources: dict[str, bytes], max_lines: int | None) -> str | None:
    """The block's text from the start of its first line."""
    if block is None:
        return ""
    if max_lines is not None and block.end_line - block.start_line + 1 > max_lines:
        return None
    try:
        return block_text(sources[block.path], block)
    except UnicodeDecodeError:
        return None


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
        return open_database(path, _prepare_schema, timeout=30.0, synchronous_normal=True)
    except (OSError, sqlite3.Error) as error:
        raise CodePlanError(
            f"cannot open the experience bank {path} ({error}); delete it to start over"
        ) from error


def _prepare_schema(connection: sqlite3.Connection) -> None:
    ensure_schema(
        connection, SCHEMA_VERSION, _TABLES, version_key="schema", label="experience bank"
    )
