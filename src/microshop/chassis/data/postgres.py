"""PostgreSQL through an asyncpg pool (prepared statements cached per connection)."""

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from microshop.chassis.data.database import Database, Row, Transaction
from microshop.chassis.data.errors import IntegrityViolation, UniqueViolation
from microshop.chassis.data.query import Query

POOL_SIZE = 10
# Our transactions last milliseconds. One left open much longer belongs to an
# instance that is gone (its host cut off, its process frozen): the server ends it,
# and so frees the rows it locked, instead of keeping them until TCP gives up
# (hours). Meanwhile a statement waits at most LOCK_TIMEOUT_MS for a row, then
# fails (the caller's retry or compensation takes over): waiting instances would
# otherwise fill the pool and stop serving everything else.
IDLE_IN_TRANSACTION_MS = 10_000
LOCK_TIMEOUT_MS = 1_000
SESSION_SETTINGS = {
    "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
    "lock_timeout": str(LOCK_TIMEOUT_MS),
}


def _translated(exc: asyncpg.IntegrityConstraintViolationError) -> IntegrityViolation:
    constraint = getattr(exc, "constraint_name", None)
    if isinstance(exc, asyncpg.UniqueViolationError):
        return UniqueViolation(str(exc), constraint)
    return IntegrityViolation(str(exc), constraint)


def _count(status: str) -> int:
    # "UPDATE 3", "DELETE 0", "INSERT 0 1": the last word is the row count.
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


def _args(query: Query, params: dict[str, Any]) -> tuple[str, list[Any]]:
    compiled = query.compiled("postgresql")
    return compiled.sql, compiled.positional(params)


class _Reads:
    """The reads, on what runs them: a transaction's connection, or outside one the
    pool (asyncpg gives both the same fetch methods)."""

    __slots__ = ()
    runs: asyncpg.Connection | asyncpg.Pool

    async def fetch_one(self, query: Query, /, **params: Any) -> Row | None:
        sql, args = _args(query, params)
        row: Row | None = await self.runs.fetchrow(sql, *args)
        return row

    async def fetch_all(self, query: Query, /, **params: Any) -> list[Row]:
        sql, args = _args(query, params)
        return list(await self.runs.fetch(sql, *args))

    async def fetch_value(self, query: Query, /, **params: Any) -> Any:
        sql, args = _args(query, params)
        return await self.runs.fetchval(sql, *args)


class PostgresTransaction(_Reads, Transaction):
    __slots__ = ("conn", "runs")

    def __init__(self, db: Database, conn: asyncpg.Connection) -> None:
        super().__init__(db)
        self.conn = self.runs = conn

    async def execute(self, query: Query, /, **params: Any) -> int:
        sql, args = _args(query, params)
        try:
            return _count(await self.conn.execute(sql, *args))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _translated(exc) from exc

    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]], /) -> None:
        compiled = query.compiled("postgresql")
        try:
            await self.conn.executemany(compiled.sql, [compiled.positional(r) for r in rows])
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _translated(exc) from exc

    async def insert(self, query: Query, /, **params: Any) -> int | None:
        sql, args = _args(query, params)
        try:
            if query.returns_id is not None:
                key = await self.conn.fetchval(sql, *args)
                return None if key is None else int(key)
            return _count(await self.conn.execute(sql, *args)) or None
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _translated(exc) from exc

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        return _Savepoint(self.conn.transaction())  # nested: asyncpg makes it a SAVEPOINT


class _Savepoint:
    __slots__ = ("inner",)

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __aenter__(self) -> None:
        await self.inner.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            await self.inner.commit()
        else:
            await self.inner.rollback()


class _Writing:
    __slots__ = ("conn", "db", "transaction", "tx")

    def __init__(self, db: "PostgresDatabase") -> None:
        self.db = db

    async def __aenter__(self) -> PostgresTransaction:
        self.conn = await self.db.pool.acquire()
        try:
            self.transaction = self.conn.transaction()
            await self.transaction.start()
        except BaseException:
            await self.db.pool.release(self.conn)
            raise
        self.tx = PostgresTransaction(self.db, self.conn)
        return self.tx

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                try:
                    await self.transaction.commit()
                except asyncpg.IntegrityConstraintViolationError as error:
                    raise _translated(error) from error
            else:
                await self.transaction.rollback()
        finally:
            await self.db.pool.release(self.conn)
        if exc_type is None:
            self.tx._committed()


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """On release asyncpg rolls back an open transaction itself and then, by default,
    sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`: a
    round trip and a transaction of its own per borrowed connection, about as many
    as the port's real ones (pg_stat_database: 8.1 commits per order in orders for
    4 transactions). This port leaves nothing of that behind: no session SET (the
    settings are the connection's startup parameters), no LISTEN, no cursor, no
    session-level advisory lock."""


class PostgresDatabase(_Reads, Database):
    dialect = "postgresql"
    migration_driver = "postgresql+asyncpg"

    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self.url = url
        self.pool = self.runs = pool

    @classmethod
    async def connect(cls, url: str, pool_size: int = POOL_SIZE) -> "PostgresDatabase":
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            statement_cache_size=512,
            server_settings=SESSION_SETTINGS,
            reset=_nothing_to_reset,
        )
        return cls(url, pool)

    def transaction(self) -> _Writing:
        return _Writing(self)

    async def ping(self) -> None:
        await self.pool.fetchval("SELECT 1")

    async def close(self) -> None:
        await self.pool.close()
