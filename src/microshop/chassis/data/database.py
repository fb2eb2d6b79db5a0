"""The port itself: a database a service reads and writes in short transactions.

    async with db.transaction() as tx:          # one commit, or none on error
        order_id = await tx.insert(NEW_ORDER, **values)
        await tx.execute(NEW_LINE, order_id=order_id, ...)
        tx.after_commit(relay.wake)
    row = await db.fetch_one(ORDER, id=order_id)  # a read outside any transaction

Rules the adapters rely on: a transaction awaits nothing but its own statements
(on SQLite it holds the one writer connection), and reads outside a transaction
see the last commit, statement by statement.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.engine import make_url

from microshop.chassis.data.query import Query

# What a fetched row is on every adapter: values by column name (and position).
Row = Mapping[str, Any]


class Transaction(ABC):
    __slots__ = ("_after_commit", "db")

    def __init__(self, db: "Database") -> None:
        self.db = db
        self._after_commit: list[Callable[[], None]] = []

    @abstractmethod
    async def execute(self, query: Query, /, **params: Any) -> int:
        """Runs a write; returns the number of rows it matched."""

    @abstractmethod
    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]], /) -> None:
        """Runs a write once per row of parameters. On a database server that is one
        round trip for all of them (asyncpg pipelines them, asyncmy writes one
        multi-row INSERT), not one each."""

    @abstractmethod
    async def fetch_one(self, query: Query, /, **params: Any) -> Row | None: ...

    @abstractmethod
    async def fetch_all(self, query: Query, /, **params: Any) -> list[Row]: ...

    @abstractmethod
    async def insert(self, query: Query, /, **params: Any) -> int | None:
        """Runs an INSERT; returns the new row's key (`Query(returns_id=...)`), or
        None when an `on_duplicate="skip"` insert found the row already there."""

    async def fetch_value(self, query: Query, /, **params: Any) -> Any:
        row = await self.fetch_one(query, **params)
        return None if row is None else next(iter(row.values()))

    @abstractmethod
    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A part of the transaction that an error undoes alone: the error still
        propagates, and the statements before and after the part stay."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Calls `callback` once this transaction has committed (not on rollback)."""
        self._after_commit.append(callback)

    def _committed(self) -> None:
        for callback in self._after_commit:
            callback()


class Database(ABC):
    dialect: str
    url: str
    # The SQLAlchemy driver Alembic migrates through, when `url` does not name one it can use.
    migration_driver: str | None = None
    # Called after each commit that wrote to the outbox (the relay sets it: outbox.py).
    outbox_written: Callable[[], None] | None = None

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    @abstractmethod
    async def fetch_one(self, query: Query, /, **params: Any) -> Row | None: ...

    @abstractmethod
    async def fetch_all(self, query: Query, /, **params: Any) -> list[Row]: ...

    async def fetch_value(self, query: Query, /, **params: Any) -> Any:
        row = await self.fetch_one(query, **params)
        return None if row is None else next(iter(row.values()))

    @abstractmethod
    async def ping(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @property
    def migration_url(self) -> str:
        """The SQLAlchemy URL Alembic migrates this database through."""
        if self.migration_driver is None:
            return self.url
        return make_url(self.url).set(drivername=self.migration_driver).render_as_string(False)


async def open_database(
    url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10
) -> Database:
    """The adapter for `url`: sqlite:///path, postgresql://..., mysql://... (a
    `+driver` suffix such as `+asyncpg` is accepted and ignored); a server's
    connections are pooled, at most `pool_size` of them."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        from microshop.chassis.data.sqlite import SqliteDatabase

        return SqliteDatabase(url, synchronous=sqlite_synchronous)
    if backend == "postgresql":
        from microshop.chassis.data.postgres import PostgresDatabase

        return await PostgresDatabase.connect(url, pool_size)
    if backend in ("mysql", "mariadb"):
        from microshop.chassis.data.mariadb import MariaDatabase

        return await MariaDatabase.connect(url, pool_size)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite, postgresql or mysql")
