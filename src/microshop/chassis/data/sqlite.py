"""SQLite through the standard library, in the event-loop thread.

Measured here: an INSERT + COMMIT costs 16 µs this way against 566-644 µs through
the async ORM and aiosqlite's thread hand-off (../shared/PERF-EVIDENCE.md). The
price is that a statement runs on the loop; our transactions are short (tens of
microseconds), so that is cheaper than any hand-off.

One writer connection (SQLite has one writer anyway) behind an asyncio lock, so a
transaction that does await something never interleaves with another; one
reader connection for reads outside transactions, which in WAL mode see the last
commit without waiting for the writer. Checkpoints, the only step that syncs the
disk, run in a worker thread so they never stall the loop (now and then one holds
the write lock meanwhile, so that the WAL can start over: writers then wait their
turn, readers do not).
"""

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from microshop.chassis.data.database import Database, Row, Transaction
from microshop.chassis.data.errors import IntegrityViolation, UniqueViolation
from microshop.chassis.data.query import Query
from microshop.chassis.data.values import sqlite_timestamp
from microshop.chassis.tasks import stop_tasks

# sqlite3's extended result codes for a unique key and a primary key collision.
_UNIQUE_CODES = {sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY}
# How long a writer waits for another process's write lock (replicas share a file);
# the wait blocks this loop, but the other process's transactions are short.
BUSY_TIMEOUT_MS = 5000
CHECKPOINT_EVERY_S = 1.0
# The WAL starts over from its beginning only when a writer finds all of it copied
# into the database; under steady writes each checkpoint ends with new frames
# behind it, and the WAL grew without end (1.5 GB in orders after 30,000 orders),
# every read searching a longer index. Past this many frames (4 KiB pages) the
# checkpoint copies the rest while holding the write lock, so the next writer
# starts the WAL over; the WAL file is then cut back to WAL_FILE_LIMIT bytes.
# (Not when replicas share the file: see _alone_on_the_wal, which then leaves the
# WAL alone for this many checkpoints.)
WAL_SHARED_BACKOFF = 60
RESTART_WAL_FRAMES = 8192
WAL_FILE_LIMIT = 64 * 1024 * 1024

sqlite3.register_adapter(Decimal, str)
sqlite3.register_adapter(datetime, sqlite_timestamp)


def _translated(exc: sqlite3.IntegrityError) -> IntegrityViolation:
    if getattr(exc, "sqlite_errorcode", None) in _UNIQUE_CODES:
        return UniqueViolation(str(exc))
    return IntegrityViolation(str(exc))


def _statement(query: Query, params: dict[str, Any]) -> tuple[str, Mapping[str, Any]]:
    compiled = query.compiled("sqlite")
    return compiled.sql, compiled.named(params)


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; we say BEGIN and COMMIT.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a killed process (what our fault tests do) and
    # never corrupts; a power cut can lose the last commits. FULL trades ~9x commit
    # throughput for that (docs/decisions.md).
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA journal_size_limit={WAL_FILE_LIMIT}")
    return conn


class _Reads:
    """The reads, on the connection that runs them: the writer's inside a
    transaction (it sees the transaction's own writes), the reader's outside one."""

    __slots__ = ()
    runs: sqlite3.Connection

    async def fetch_one(self, query: Query, /, **params: Any) -> Row | None:
        row: Row | None = self.runs.execute(*_statement(query, params)).fetchone()
        return row

    async def fetch_all(self, query: Query, /, **params: Any) -> list[Row]:
        return self.runs.execute(*_statement(query, params)).fetchall()

    async def fetch_value(self, query: Query, /, **params: Any) -> Any:
        row = self.runs.execute(*_statement(query, params)).fetchone()
        return None if row is None else row[0]


class SqliteTransaction(_Reads, Transaction):
    __slots__ = ("_savepoints", "conn", "runs")

    def __init__(self, db: Database, conn: sqlite3.Connection) -> None:
        super().__init__(db)
        self.conn = self.runs = conn
        self._savepoints = 0

    async def execute(self, query: Query, /, **params: Any) -> int:
        try:
            return self.conn.execute(*_statement(query, params)).rowcount
        except sqlite3.IntegrityError as exc:
            raise _translated(exc) from exc

    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]], /) -> None:
        compiled = query.compiled("sqlite")
        try:
            self.conn.executemany(compiled.sql, [compiled.named(r) for r in rows])
        except sqlite3.IntegrityError as exc:
            raise _translated(exc) from exc

    async def insert(self, query: Query, /, **params: Any) -> int | None:
        try:
            cursor = self.conn.execute(*_statement(query, params))
        except sqlite3.IntegrityError as exc:
            raise _translated(exc) from exc
        if cursor.rowcount == 0:
            return None
        return cursor.lastrowid if query.returns_id is not None else cursor.rowcount

    def savepoint(self) -> "_Savepoint":
        self._savepoints += 1
        return _Savepoint(self.conn, f"sp{self._savepoints}")


class _Savepoint:
    __slots__ = ("conn", "name")

    def __init__(self, conn: sqlite3.Connection, name: str) -> None:
        self.conn, self.name = conn, name

    async def __aenter__(self) -> None:
        self.conn.execute(f"SAVEPOINT {self.name}")

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            self.conn.execute(f"ROLLBACK TO {self.name}")
        self.conn.execute(f"RELEASE {self.name}")


class _Writing:
    """`async with db.transaction() as tx`: BEGIN IMMEDIATE ... COMMIT under the lock."""

    __slots__ = ("db", "tx")

    def __init__(self, db: "SqliteDatabase") -> None:
        self.db = db

    async def __aenter__(self) -> SqliteTransaction:
        await self.db._lock.acquire()
        try:
            # IMMEDIATE takes the write lock now: a deferred transaction that reads
            # first could not upgrade once another process had written (BUSY_SNAPSHOT).
            self.db._writer.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.db._lock.release()
            raise
        self.tx = SqliteTransaction(self.db, self.db._writer)
        return self.tx

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        conn = self.db._writer
        try:
            if exc_type is None:
                try:
                    conn.execute("COMMIT")
                except sqlite3.IntegrityError as error:
                    raise _translated(error) from error
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            self.db._lock.release()
        self.db._dirty = True
        if exc_type is None:
            self.tx._committed()


class SqliteDatabase(_Reads, Database):
    dialect = "sqlite"

    def __init__(self, url: str, *, synchronous: str = "NORMAL") -> None:
        parsed = make_url(url)
        self.path = str(Path(parsed.database or "").resolve())
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{self.path}"
        self._writer = _connect(self.path, synchronous)
        # Checkpoints move to a worker thread (below): none on commit.
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._reader = self.runs = _connect(self.path, synchronous)
        self._lock = asyncio.Lock()
        self._dirty = False
        self._checkpoints: asyncio.Task[None] | None = None
        self._checkpoint_conn = _connect(self.path, synchronous)
        self._checkpoint_guard = threading.Lock()
        self._wal_tried = b""  # the WAL's header when we last made room for a restart
        self._wal_backoff = 0

    def transaction(self) -> _Writing:
        self._start_checkpoints()
        return _Writing(self)

    async def ping(self) -> None:
        self._reader.execute("SELECT 1").fetchone()

    def _start_checkpoints(self) -> None:
        if self._checkpoints is None:
            self._checkpoints = asyncio.get_running_loop().create_task(
                self._checkpoint_forever(), name="sqlite-checkpoints"
            )

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY_S)
            if self._dirty:
                self._dirty = False
                with contextlib.suppress(sqlite3.Error):
                    frames = await asyncio.to_thread(self.checkpoint)
                    if frames > RESTART_WAL_FRAMES and self._alone_on_the_wal():
                        async with self._lock:
                            await asyncio.to_thread(self.checkpoint)

    def _alone_on_the_wal(self) -> bool:
        """False for a while after a restart we made room for did not happen: another
        process (a replica sharing the file) writes too, and holding our own writers
        back would only delay them. The WAL's header (checkpoint sequence and salts)
        changes each time it starts over (https://sqlite.org/fileformat.html#walformat)."""
        if self._wal_backoff:
            self._wal_backoff -= 1
            return False
        try:
            with open(f"{self.path}-wal", "rb") as wal:
                generation = wal.read(24)[12:24]
        except OSError:
            return True
        if generation == self._wal_tried:
            self._wal_backoff, self._wal_tried = WAL_SHARED_BACKOFF, b""
            return False
        self._wal_tried = generation
        return True

    def checkpoint(self) -> int:
        """Copies the WAL into the database file (PASSIVE: never waits on a writer);
        returns how many frames the WAL holds."""
        with self._checkpoint_guard:
            _, frames, _ = self._checkpoint_conn.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        return int(frames)

    async def close(self) -> None:
        await stop_tasks([self._checkpoints])
        self._checkpoints = None
        with contextlib.suppress(sqlite3.Error):
            self.checkpoint()
        for conn in (self._writer, self._reader, self._checkpoint_conn):
            conn.close()
