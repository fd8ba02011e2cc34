"""Rate-limit counters in a SQLite file, shared by every worker process on one host (no server).

Flask-Limiter counts through the `limits` library, whose `memory://` storage is per process: two
gunicorn workers let twice the documented logins through. Its other storages need a server
(Redis, Memcached, MongoDB), which the embedded default must not. This plugs into `limits`'
documented extension point (a `Storage` subclass registering a URI scheme), so Flask-Limiter,
its decorators and strategies stay as they are: `forum-sqlite:///path/to/ratelimits.sqlite`.
Each write is one `BEGIN IMMEDIATE` transaction, so workers never count the same slot twice.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from limits.storage import MovingWindowSupport, Storage

SCHEME = "forum-sqlite"
BUSY_TIMEOUT = 5  # seconds a worker waits for another's write (each takes microseconds)
SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_key ON entries (key, at);
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires_at);
"""


class SQLiteStorage(Storage, MovingWindowSupport):
    """Fixed-window counters and moving-window entries, expired rows pruned as writes go."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (the shape limits registers)

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool):
        self.path = uri.removeprefix(f"{SCHEME}://")
        self._local = threading.local()  # a connection per thread (and per forked process)
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        if getattr(self._local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # a lost counter costs nothing
            connection.executescript(SCHEMA)
            self._local.connection, self._local.pid = connection, os.getpid()
        return self._local.connection

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    # fixed window -----------------------------------------------------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._writing() as db:
            db.execute("DELETE FROM counters WHERE key = ? AND expires_at <= ?", (key, now))
            return db.execute(
                "INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
                " SET count = count + excluded.count RETURNING count",
                (key, amount, now + expiry),
            ).fetchone()[0]

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
        )
        return (row.fetchone() or (0,))[0]

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._connection().execute(
            "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, now)
        )
        return (row.fetchone() or (now,))[0]

    # moving window (the forum's strategy) -----------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._writing() as db:
            db.execute("DELETE FROM entries WHERE expires_at <= ?", (now,))
            (held,) = db.execute(
                "SELECT count(*) FROM entries WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
            if held + amount > limit:
                return False
            db.executemany(
                "INSERT INTO entries VALUES (?, ?, ?)", [(key, now, now + expiry)] * amount
            )
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """When the oldest entry in the window was taken, and how many the window holds."""
        now = time.time()
        oldest, held = (
            self._connection()
            .execute(
                "SELECT min(at), count(*) FROM entries WHERE key = ? AND at > ?",
                (key, now - expiry),
            )
            .fetchone()
        )
        return (oldest, held) if held else (now, 0)

    # housekeeping -----------------------------------------------------------------------------

    def check(self) -> bool:
        return self._connection().execute("SELECT 1").fetchone() == (1,)

    def reset(self) -> int:
        with self._writing() as db:
            (counters,) = db.execute("SELECT count(*) FROM counters").fetchone()
            (entries,) = db.execute("SELECT count(DISTINCT key) FROM entries").fetchone()
            db.execute("DELETE FROM counters")
            db.execute("DELETE FROM entries")
        return counters + entries

    def clear(self, key: str) -> None:
        with self._writing() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
            db.execute("DELETE FROM entries WHERE key = ?", (key,))
