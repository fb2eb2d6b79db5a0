"""MariaDB/MySQL through an asyncmy pool.

Connections run in autocommit and a transaction says BEGIN itself, so a read
outside a transaction never keeps an old REPEATABLE READ snapshot open on a
pooled connection. FOUND_ROWS makes an UPDATE count the rows it matched, as the
other engines do (MariaDB would count only those it changed).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncmy
from asyncmy.constants import CLIENT
from asyncmy.cursors import DictCursor
from asyncmy.errors import MySQLError
from sqlalchemy.engine import make_url

from microshop.chassis.data.database import Database, Row, Transaction
from microshop.chassis.data.errors import IntegrityViolation, UniqueViolation
from microshop.chassis.data.query import Query
from microshop.chassis.data.values import naive_utc

POOL_SIZE = 10
DUPLICATE_KEY = 1062
# Foreign key (1216, 1217, 1451, 1452), NOT NULL (1048), CHECK (3819 MySQL, 4025 MariaDB).
CONSTRAINT_CODES = {1048, 1216, 1217, 1451, 1452, 3819, 4025}


def _translated(exc: MySQLError) -> Exception:
    code = exc.args[0] if exc.args else None
    if code == DUPLICATE_KEY:
        return UniqueViolation(str(exc))
    if code in CONSTRAINT_CODES:
        return IntegrityViolation(str(exc))
    return exc


def _args(query: Query, params: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    compiled = query.compiled("mysql")
    # DATETIME(6) keeps no zone: store UTC, read back as UTC (values.timestamp).
    values = [
        naive_utc(value) if isinstance(value, datetime) else value
        for value in compiled.positional(params)
    ]
    return compiled.sql, tuple(values)


class MariaTransaction(Transaction):
    __slots__ = ("_savepoints", "conn")

    def __init__(self, db: Database, conn: Any) -> None:
        super().__init__(db)
        self.conn = conn
        self._savepoints = 0

    async def _run(self, query: Query, params: dict[str, Any]) -> Any:
        sql, args = _args(query, params)
        cursor = self.conn.cursor(DictCursor)
        try:
            await cursor.execute(sql, args)
        except MySQLError as exc:
            raise _translated(exc) from exc
        return cursor

    async def execute(self, query: Query, /, **params: Any) -> int:
        cursor = await self._run(query, params)
        return int(cursor.rowcount)

    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]], /) -> None:
        sql = query.compiled("mysql").sql
        cursor = self.conn.cursor()
        try:
            await cursor.executemany(sql, [_args(query, r)[1] for r in rows])
        except MySQLError as exc:
            raise _translated(exc) from exc

    async def insert(self, query: Query, /, **params: Any) -> int | None:
        cursor = await self._run(query, params)
        if cursor.rowcount == 0:
            return None
        return int(cursor.lastrowid) if query.returns_id is not None else int(cursor.rowcount)

    async def fetch_one(self, query: Query, /, **params: Any) -> Row | None:
        cursor = await self._run(query, params)
        row: Row | None = await cursor.fetchone()
        return row

    async def fetch_all(self, query: Query, /, **params: Any) -> list[Row]:
        cursor = await self._run(query, params)
        return list(await cursor.fetchall())

    def savepoint(self) -> "_Savepoint":
        self._savepoints += 1
        return _Savepoint(self.conn, f"sp{self._savepoints}")


class _Savepoint:
    __slots__ = ("conn", "name")

    def __init__(self, conn: Any, name: str) -> None:
        self.conn, self.name = conn, name

    async def _say(self, sql: str) -> None:
        async with self.conn.cursor() as cursor:
            await cursor.execute(sql)

    async def __aenter__(self) -> None:
        await self._say(f"SAVEPOINT {self.name}")

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            await self._say(f"ROLLBACK TO SAVEPOINT {self.name}")
        await self._say(f"RELEASE SAVEPOINT {self.name}")


class _Writing:
    __slots__ = ("conn", "db", "tx")

    def __init__(self, db: "MariaDatabase") -> None:
        self.db = db

    async def __aenter__(self) -> MariaTransaction:
        self.conn = await self.db.pool.acquire()
        try:
            await self.conn.begin()
        except BaseException:
            self.db.pool.release(self.conn)
            raise
        self.tx = MariaTransaction(self.db, self.conn)
        return self.tx

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                await self.conn.commit()
            else:
                await self.conn.rollback()
        finally:
            self.db.pool.release(self.conn)
        if exc_type is None:
            self.tx._committed()


class _Reading:
    """One statement on a pooled connection, outside any transaction."""

    __slots__ = ("conn", "db")

    def __init__(self, db: "MariaDatabase") -> None:
        self.db = db

    async def __aenter__(self) -> MariaTransaction:
        self.conn = await self.db.pool.acquire()
        return MariaTransaction(self.db, self.conn)

    async def __aexit__(self, *_: object) -> None:
        self.db.pool.release(self.conn)


class MariaDatabase(Database):
    dialect = "mysql"
    migration_driver = "mysql+asyncmy"

    def __init__(self, url: str, pool: Any) -> None:
        self.url = url
        self.pool = pool

    @classmethod
    async def connect(cls, url: str, pool_size: int = POOL_SIZE) -> "MariaDatabase":
        parts = make_url(url)
        pool = await asyncmy.create_pool(
            minsize=1,
            maxsize=pool_size,
            host=parts.host or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            database=parts.database,
            autocommit=True,
            charset="utf8mb4",
            client_flag=CLIENT.FOUND_ROWS,
        )
        return cls(url, pool)

    def transaction(self) -> _Writing:
        return _Writing(self)

    async def fetch_one(self, query: Query, /, **params: Any) -> Row | None:
        async with _Reading(self) as tx:
            return await tx.fetch_one(query, **params)

    async def fetch_all(self, query: Query, /, **params: Any) -> list[Row]:
        async with _Reading(self) as tx:
            return await tx.fetch_all(query, **params)

    async def ping(self) -> None:
        async with self.pool.acquire() as conn, conn.cursor() as cursor:
            await cursor.execute("SELECT 1")

    async def close(self) -> None:
        self.pool.close()
        await self.pool.wait_closed()
