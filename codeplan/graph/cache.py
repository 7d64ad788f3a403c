"""A persistent cache of per-file analysis results in `.codeplan/graph-cache.sqlite3`.

The cache only ever saves work.  Every entry is stored with what it was computed from and
checked against it on the way out, so a stale, undecodable or damaged entry is a miss,
never a wrong answer.  A damaged database file is moved aside and rebuilt; a folder that
cannot be written degrades to an in-memory cache.  Two processes may build at once:
SQLite's WAL journal lets readers proceed while a writer commits, and writes are short
transactions that wait for each other through the busy timeout.  Not thread-safe: each
process or thread opens its own cache object.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from codeplan.errors import CacheError
from codeplan.graph.gcpause import collector_paused
from codeplan.graph.model import FileFacts, FileResolution

logger = logging.getLogger(__name__)
_Decoded = TypeVar("_Decoded")

CACHE_FILE_NAME = "graph-cache.sqlite3"
# Bump whenever the tables or the payload encoding change: a mismatch wipes the cache.
SCHEMA_VERSION = "1"
BUSY_TIMEOUT_SECONDS = 30.0
# Stays under SQLite's historical limit of 999 bound parameters per statement.
_PATHS_PER_QUERY = 900
_COMPRESSION_LEVEL = 1  # payloads are small; speed matters more than size

_OPEN_ATTEMPTS = 40  # about 16 s in all

_TABLES = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE facts (path TEXT PRIMARY KEY, content_hash TEXT NOT NULL,"
    " analyzer_version TEXT NOT NULL, payload BLOB NOT NULL)",
    "CREATE TABLE resolutions (path TEXT PRIMARY KEY, resolution_key TEXT NOT NULL,"
    " payload BLOB NOT NULL)",
)


@dataclass(frozen=True)
class CacheStats:
    fact_hits: int = 0
    fact_misses: int = 0
    resolution_hits: int = 0
    resolution_misses: int = 0

    @property
    def hits(self) -> int:
        return self.fact_hits + self.resolution_hits

    @property
    def misses(self) -> int:
        return self.fact_misses + self.resolution_misses


class AnalysisCache:
    """Per-file facts keyed by (path, content hash, analyzer version) and per-file
    resolutions keyed by (path, resolution key); one entry per path of each kind."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / CACHE_FILE_NAME
        self.persistent = True  # False once degraded to an in-memory database
        self._fact_hits = self._fact_misses = 0
        self._resolution_hits = self._resolution_misses = 0
        self._connection: sqlite3.Connection | None = self._open(directory)

    def get_facts(self, path: str, content_hash: str, analyzer_version: str) -> FileFacts | None:
        return self.get_many_facts([(path, content_hash, analyzer_version)]).get(path)

    def get_many_facts(self, keys: Iterable[tuple[str, str, str]]) -> dict[str, FileFacts]:
        """The cached facts for each (path, content_hash, analyzer_version) key, by path."""
        wanted = {path: (digest, version) for path, digest, version in keys}
        found: dict[str, FileFacts] = {}
        rows = self._select("facts", "content_hash, analyzer_version", list(wanted))
        with collector_paused():
            for path, digest, version, payload in rows:
                if wanted.get(path) == (digest, version):
                    facts = _decode(payload, FileFacts.from_json)
                    # Trust a payload only if it describes what its row claims to hold.
                    if facts is not None and _facts_key(facts) == (path, digest, version):
                        found[path] = facts
        self._fact_hits += len(found)
        self._fact_misses += len(wanted) - len(found)
        return found

    def put_facts(self, facts: Iterable[FileFacts]) -> None:
        rows = [
            (item.path, item.content_hash, item.analyzer_version, payload)
            for item in facts
            if (payload := _encode(item.path, item.to_json())) is not None
        ]
        self._write("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?)", rows)

    def get_resolutions(self, keys: Mapping[str, str]) -> dict[str, FileResolution]:
        """The cached resolution of each path, if it was stored under exactly `keys[path]`."""
        found: dict[str, FileResolution] = {}
        rows = self._select("resolutions", "resolution_key", list(keys))
        with collector_paused():
            for path, resolution_key, payload in rows:
                if keys.get(path) == resolution_key:
                    resolution = _decode(payload, FileResolution.from_json)
                    if resolution is not None and resolution.path == path:
                        found[path] = resolution
        self._resolution_hits += len(found)
        self._resolution_misses += len(keys) - len(found)
        return found

    def put_resolutions(self, items: Iterable[tuple[str, FileResolution]]) -> None:
        """Store each (resolution_key, resolution), replacing the path's previous entry."""
        rows = [
            (resolution.path, resolution_key, payload)
            for resolution_key, resolution in items
            if (payload := _encode(resolution.path, resolution.to_json())) is not None
        ]
        self._write("INSERT OR REPLACE INTO resolutions VALUES (?, ?, ?)", rows)

    def stats(self) -> CacheStats:
        return CacheStats(
            self._fact_hits, self._fact_misses, self._resolution_hits, self._resolution_misses
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> AnalysisCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _select(self, table: str, key_columns: str, paths: list[str]) -> list[tuple[Any, ...]]:
        if self._connection is None or not paths:
            return []
        rows: list[tuple[Any, ...]] = []
        try:
            for start in range(0, len(paths), _PATHS_PER_QUERY):
                chunk = paths[start : start + _PATHS_PER_QUERY]
                placeholders = ",".join("?" * len(chunk))
                query = f"SELECT path, {key_columns}, payload FROM {table} WHERE path IN ({placeholders})"
                rows.extend(self._connection.execute(query, chunk))
        except sqlite3.Error as error:
            logger.warning("analysis cache read failed (%s); treating it as a miss", error)
            return []
        return rows

    def _write(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if self._connection is None or not rows:
            return
        try:
            with _write_transaction(self._connection):
                self._connection.executemany(statement, rows)
        except sqlite3.Error as error:
            logger.warning("analysis cache write failed (%s); results not cached", error)

    def _open(self, directory: Path) -> sqlite3.Connection:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            ignore = directory / ".gitignore"
            if not ignore.exists():  # CodePlan's own files never show up as changes
                ignore.write_text("*\n")
            return _open_database(self.path)
        except (OSError, sqlite3.Error, CacheError) as error:
            if not _is_damage(error):
                return self._open_in_memory(error)
            logger.warning("analysis cache %s is damaged (%s); rebuilding it", self.path, error)
        try:
            _move_aside(self.path)
            return _open_database(self.path)
        except (OSError, sqlite3.Error, CacheError) as error:
            return self._open_in_memory(error)

    def _open_in_memory(self, reason: Exception) -> sqlite3.Connection:
        message = "cannot use analysis cache %s (%s); caching in memory for this run only"
        logger.warning(message, self.path, reason)
        self.persistent = False
        connection = sqlite3.connect(":memory:", isolation_level=None)
        _prepare_schema(connection)
        return connection


def _open_database(path: Path) -> sqlite3.Connection:
    """Open, retrying while another process holds the lock: switching a new database to
    WAL needs an exclusive lock and fails at once (SQLite's busy timeout does not apply)
    when two processes create the cache at the same moment."""
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            return _open_database_once(path)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def _open_database_once(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        # A lost tail of the WAL after a power cut costs only recomputation.
        connection.execute("PRAGMA synchronous=NORMAL")
        verdict = connection.execute("PRAGMA quick_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise CacheError(f"integrity check failed: {verdict}")
        _prepare_schema(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _prepare_schema(connection: sqlite3.Connection) -> None:
    """Create the tables, or recreate them if they were written by another schema version."""
    with _write_transaction(connection):
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        version = None
        if "meta" in tables:
            row = connection.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
            version = row[0] if row else None
        if version == SCHEMA_VERSION:
            return
        if tables:
            logger.info("analysis cache schema %s != %s; clearing it", version, SCHEMA_VERSION)
        for table in ("meta", "facts", "resolutions"):
            connection.execute(f"DROP TABLE IF EXISTS {table}")
        for create in _TABLES:
            connection.execute(create)
        connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))


@contextmanager
def _write_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout
    # instead of failing when a read transaction tries to upgrade.
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _is_damage(error: Exception) -> bool:
    # SQLite reports a usable file it cannot get at (locked, read-only, disk full) as an
    # OperationalError, and a file that is not, or no longer, a database as DatabaseError.
    if isinstance(error, sqlite3.OperationalError):
        return False
    return isinstance(error, (CacheError, sqlite3.DatabaseError))


def _move_aside(path: Path) -> None:
    """Keep the damaged file for inspection.  Its journal and index belong to it, not to
    the fresh database that will take its name, so they go too."""
    if path.exists():
        os.replace(path, path.with_name(path.name + ".corrupt"))
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _encode(path: str, document: Mapping[str, Any]) -> bytes | None:
    try:
        text = json.dumps(document, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        logger.warning("not caching %s: its analysis is not JSON-serialisable (%s)", path, error)
        return None
    return zlib.compress(text.encode(), _COMPRESSION_LEVEL)


def _facts_key(facts: FileFacts) -> tuple[str, str, str]:
    return facts.path, facts.content_hash, facts.analyzer_version


def _decode(payload: Any, parse: Callable[[Any], _Decoded]) -> _Decoded | None:
    try:
        return parse(json.loads(zlib.decompress(payload)))
    except Exception:  # any damage to a cached row makes it a miss
        return None
