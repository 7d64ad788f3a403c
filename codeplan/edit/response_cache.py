"""Answers already paid for: an SQLite file keyed by what was asked.

Re-running a plan, or resuming one, asks many of the same questions again; a hit costs
nothing and answers the same.  The key is a hash of the model, the messages and the sampling
parameters, never of the credentials, which are not stored either.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from codeplan.errors import ConfigError
from codeplan.storage import is_locked, open_database, write_transaction

SCHEMA_VERSION = 1
_OPEN_ATTEMPTS = 13  # about 1.5 s in all
_BUSY_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    prompt_tokens: int
    completion_tokens: int


class ResponseCache:
    """A thread-safe cache of model answers in the SQLite file `path` (made if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"cannot create the response cache folder {path.parent}: {error}"
            ) from None
        self._connection = _open(path)

    @staticmethod
    def key(model: str, messages: Sequence[Mapping[str, str]], params: Mapping[str, Any]) -> str:
        """A digest of the request: equal for equal questions, whatever the dict order."""
        canonical = json.dumps(
            {"model": model, "messages": list(messages), "params": dict(params)},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def get(self, key: str) -> CachedAnswer | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT text, prompt_tokens, completion_tokens FROM answers WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return CachedAnswer(str(row[0]), int(row[1]), int(row[2]))

    def put(self, key: str, answer: CachedAnswer) -> None:
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                (key, answer.text, answer.prompt_tokens, answer.completion_tokens, time.time()),
            )

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _open(path: Path) -> sqlite3.Connection:
    """Connect and set up the schema, waiting out another process that holds the lock."""
    try:
        connection = open_database(
            path,
            _prepare,
            timeout=_BUSY_TIMEOUT_SECONDS,
            attempts=_OPEN_ATTEMPTS,
            check_same_thread=False,
        )
    except sqlite3.OperationalError as error:
        if is_locked(error):
            raise ConfigError(f"the response cache {path} stays locked: {error}") from None
        raise ConfigError(f"cannot open the response cache {path}: {error}") from None
    except sqlite3.DatabaseError as error:
        raise ConfigError(
            f"{path} is not a response cache ({error}); delete it or choose another path"
        ) from None
    # from here on, `with connection:` makes each write one transaction
    connection.isolation_level = "DEFERRED"
    return connection


def _prepare(connection: sqlite3.Connection) -> None:
    with write_transaction(connection):
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            # a cache is only an optimisation: an unknown layout is dropped, not migrated
            connection.execute("DROP TABLE IF EXISTS answers")
            connection.execute("DELETE FROM schema_version")
            connection.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        connection.execute(
            "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, text TEXT NOT NULL,"
            " prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,"
            " created REAL NOT NULL)"
        )
