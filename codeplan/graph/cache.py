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

import logging
import marshal
import os
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from codeplan.errors import CacheError
from codeplan.graph.gcpause import collector_paused
from codeplan.graph.records import FileFacts, FileResolution
from codeplan.graph.sources import RecordedSignature
from codeplan.storage import ensure_schema, ensure_state_dir, open_database, write_transaction

logger = logging.getLogger(__name__)
_Decoded = TypeVar("_Decoded")

CACHE_FILE_NAME = "graph-cache.sqlite3"
# Bump whenever the tables or the payload encoding change: a mismatch wipes the cache.
SCHEMA_VERSION = "9"  # 3: marshal payloads behind a CRC-32; 4: positional records; 5: signatures;
# 6: a resolution's edges packed apart (see PackedEdges); 7: a file's blocks too; 8: LZ4
# payloads; 9: LZ4 blocks, edges and references too, edges naming the files they start in
BUSY_TIMEOUT_SECONDS = 30.0
# Stays under SQLite's historical limit of 999 bound parameters per statement.
_PATHS_PER_QUERY = 900

_TABLES = {
    "facts": "path TEXT PRIMARY KEY, content_hash TEXT NOT NULL,"
    " analyzer_version TEXT NOT NULL, payload BLOB NOT NULL",
    "resolutions": "path TEXT PRIMARY KEY, resolution_key TEXT NOT NULL, payload BLOB NOT NULL",
    "signatures": "path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
    " ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, content_hash TEXT NOT NULL,"
    " recorded_ns INTEGER NOT NULL",
}


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
                    facts = _decode(payload, FileFacts.from_record)
                    # Trust a payload only if it describes what its row claims to hold.
                    if facts is not None and _facts_key(facts) == (path, digest, version):
                        found[path] = facts
        self._fact_hits += len(found)
        self._fact_misses += len(wanted) - len(found)
        return found

    def fact_paths(self) -> set[str]:
        """The paths the cache holds facts for, under whatever content hash."""
        if self._connection is None:
            return set()
        try:
            return {path for (path,) in self._connection.execute("SELECT path FROM facts")}
        except sqlite3.Error as error:
            logger.warning("analysis cache read failed (%s); treating it as a miss", error)
            return set()

    def put_facts(self, facts: Iterable[FileFacts]) -> None:
        self.put_packed_facts(
            (item, payload) for item in facts if (payload := _pack(item)) is not None
        )

    def put_packed_facts(self, items: Iterable[tuple[FileFacts, bytes]]) -> None:
        """Store each (facts, `pack(facts)`), e.g. payloads packed by the worker that
        extracted them, replacing the path's previous entry."""
        rows = [(f.path, f.content_hash, f.analyzer_version, payload) for f, payload in items]
        self._write("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?)", rows)

    def get_resolutions(self, keys: Mapping[str, str]) -> dict[str, FileResolution]:
        """The cached resolution of each path, if it was stored under exactly `keys[path]`."""
        found: dict[str, FileResolution] = {}
        rows = self._select("resolutions", "resolution_key", list(keys))
        with collector_paused():
            for path, resolution_key, payload in rows:
                if keys.get(path) == resolution_key:
                    resolution = _decode(payload, FileResolution.from_record)
                    if resolution is not None and resolution.path == path:
                        found[path] = resolution
        self._resolution_hits += len(found)
        self._resolution_misses += len(keys) - len(found)
        return found

    def put_resolutions(self, items: Iterable[tuple[str, FileResolution]]) -> None:
        """Store each (resolution_key, resolution), replacing the path's previous entry."""
        self.put_packed_resolutions(
            (key, resolution, payload)
            for key, resolution in items
            if (payload := _pack(resolution)) is not None
        )

    def put_packed_resolutions(self, items: Iterable[tuple[str, FileResolution, bytes]]) -> None:
        """Store each (resolution_key, resolution, `pack(resolution)`)."""
        rows = [(resolution.path, key, payload) for key, resolution, payload in items]
        self._write("INSERT OR REPLACE INTO resolutions VALUES (?, ?, ?)", rows)

    def get_signatures(self) -> dict[str, RecordedSignature]:
        """The stat signature recorded with each file's content hash (see sources.py).  A
        damaged row costs at most a read: a hash that no longer matches the file's cached
        facts is a miss, and a miss reads and hashes the file again."""
        if self._connection is None:
            return {}
        try:
            rows = self._connection.execute("SELECT * FROM signatures").fetchall()
        except sqlite3.Error as error:
            logger.warning("analysis cache read failed (%s); treating it as a miss", error)
            return {}
        return {
            path: RecordedSignature(path, (size, mtime, ctime, inode), digest, recorded)
            for path, size, mtime, ctime, inode, digest, recorded in rows
        }

    def put_signatures(self, signatures: Iterable[RecordedSignature]) -> None:
        rows = [(s.path, *s.stat, s.content_hash, s.recorded_ns) for s in signatures]
        self._write("INSERT OR REPLACE INTO signatures VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

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
            with write_transaction(self._connection):
                self._connection.executemany(statement, rows)
        except sqlite3.Error as error:
            logger.warning("analysis cache write failed (%s); results not cached", error)

    def _open(self, directory: Path) -> sqlite3.Connection:
        try:
            ensure_state_dir(directory)
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
    # Never waiting for the disk saves a cold build its fsyncs (flask's: 4 ms of 150, in
    # closing).  A power cut may then lose entries or damage the file, which costs only
    # recomputation: the next open's integrity check moves a damaged file aside, and each
    # payload is checked against its checksum and key on the way out.
    return open_database(path, _check_and_prepare, timeout=BUSY_TIMEOUT_SECONDS, synchronous="OFF")


def _check_and_prepare(connection: sqlite3.Connection) -> None:
    """Refuse a damaged file (the caller moves it aside), then set up the schema."""
    verdict = connection.execute("PRAGMA quick_check").fetchone()
    if verdict is None or verdict[0] != "ok":
        raise CacheError(f"integrity check failed: {verdict}")
    _prepare_schema(connection)


def _prepare_schema(connection: sqlite3.Connection) -> None:
    """Create the tables, or recreate them if they were written by another schema version."""
    ensure_schema(
        connection, SCHEMA_VERSION, _TABLES, version_key="schema_version", label="analysis cache"
    )


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


class _Recordable(Protocol):
    @property
    def path(self) -> str: ...

    def to_record(self) -> tuple[Any, ...]: ...


def pack(item: _Recordable) -> bytes:
    """The cache payload of facts or a resolution: its record, marshalled, behind a CRC-32.
    ValueError if the record holds something marshal cannot write."""
    packed = marshal.dumps(item.to_record())
    # not compressed: the bulky analyzer payload inside is already, and compressing the
    # rest cost a cold build more time than the disk it saved was worth
    return zlib.crc32(packed).to_bytes(4, "big") + packed


def unpack(payload: bytes, parse: Callable[[Any], _Decoded], *, verify: bool = True) -> _Decoded:
    """`parse(record)` of a payload written by `pack`; ValueError if it is damaged.  The
    checksum guards what was stored: a payload that comes straight from the process that
    packed it (a forked worker's, through a pipe) may skip it (`verify=False`)."""
    body = memoryview(payload)[4:]
    if verify and zlib.crc32(body).to_bytes(4, "big") != payload[:4]:
        raise ValueError("damaged payload")  # marshal must never see bytes not written
    return parse(marshal.loads(body))


def _pack(item: _Recordable) -> bytes | None:
    try:
        return pack(item)
    except ValueError as error:
        logger.warning("not caching %s: its analysis is not serialisable (%s)", item.path, error)
        return None


def _facts_key(facts: FileFacts) -> tuple[str, str, str]:
    return facts.path, facts.content_hash, facts.analyzer_version


def _decode(payload: Any, parse: Callable[[Any], _Decoded]) -> _Decoded | None:
    try:
        return unpack(payload, parse)
    except Exception:  # any damage to a cached row makes it a miss
        return None
