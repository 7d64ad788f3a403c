"""SQLite plumbing shared by CodePlan's stores: the analysis cache, the experience bank and
the response cache.

Each store keeps its own tables, schema version and errors; this module opens a database
file in WAL mode (readers proceed while a writer commits), runs short write transactions
that queue on the busy timeout, and wipes tables written by another schema version: every
store holds derived data, so an unknown layout is dropped, never migrated.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

OPEN_ATTEMPTS = 40  # about 16 s in all


def ensure_state_dir(folder: Path) -> None:
    """Create CodePlan's state folder (`.codeplan`) with a `.gitignore` of `*`, so that
    CodePlan's own files (and the .gitignore itself) never show up in the user's git status."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


def open_database(
    path: Path,
    prepare: Callable[[sqlite3.Connection], None],
    *,
    timeout: float,
    attempts: int = OPEN_ATTEMPTS,
    synchronous: Literal["FULL", "NORMAL", "OFF"] = "FULL",
    check_same_thread: bool = True,
) -> sqlite3.Connection:
    """Connect to `path` in autocommit mode (transactions are explicit), switch it to WAL,
    and let `prepare` check it and set up the schema; the connection is closed if that fails.

    Retries while another process holds the lock: switching a new database to WAL needs a
    moment alone with the file and fails at once (SQLite's busy timeout does not apply)
    when two processes create it at the same moment.  The last error is raised as is.
    """
    for attempt in range(attempts):
        try:
            return _open_once(path, prepare, timeout, synchronous, check_same_thread)
        except sqlite3.OperationalError as error:
            if not is_locked(error) or attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def _open_once(
    path: Path,
    prepare: Callable[[sqlite3.Connection], None],
    timeout: float,
    synchronous: str,
    check_same_thread: bool,
) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=check_same_thread
    )
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a power cut may lose the WAL's tail, never corrupt the file; OFF: it may
        # corrupt the file too, which only a store that detects damage can accept
        if synchronous != "FULL":
            connection.execute(f"PRAGMA synchronous={synchronous}")
        prepare(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def is_locked(error: sqlite3.OperationalError) -> bool:
    """Whether another connection holds the lock (the one failure worth waiting out)."""
    return "locked" in str(error) or "busy" in str(error)


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """One transaction on an autocommit connection, rolled back if the body raises."""
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


def ensure_schema(
    connection: sqlite3.Connection,
    version: str,
    tables: Mapping[str, str],
    *,
    version_key: str,
    label: str,
) -> None:
    """Create a `meta` table (key, value) and `tables` (name: column definitions), or drop
    and recreate them all when `meta` does not hold `version` under `version_key`."""
    with write_transaction(connection):
        existing = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        stored = None
        if "meta" in existing:
            row = connection.execute(
                "SELECT value FROM meta WHERE key = ?", (version_key,)
            ).fetchone()
            stored = row[0] if row else None
        if stored == version:
            return
        if existing:
            logger.info("%s schema %s != %s; clearing it", label, stored, version)
        for table in ("meta", *tables):
            connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for table, columns in tables.items():
            connection.execute(f"CREATE TABLE {table} ({columns})")
        connection.execute("INSERT INTO meta VALUES (?, ?)", (version_key, version))
