"""Async SQLAlchemy per service: SQLite by default, PostgreSQL or MariaDB by URL.

db = Database(settings.resolved_database_url())
async with db.sessions.begin() as session:
    session.add(row)
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, TypeDecorator, event, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Each service declares its own subclass, so metadata never mixes services."""

    __abstract__ = True


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend: SQLite and MariaDB keep no time zone,
    and MariaDB's DATETIME drops microseconds unless asked for them."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name in ("mysql", "mariadb") else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self.url = make_url(url)
        options: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            Path(self.url.database or "").parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": 10}
        else:
            options.update(pool_size=10, max_overflow=10, pool_recycle=1800)
        self.engine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            _tune_sqlite(self.engine.sync_engine, sqlite_synchronous)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def attach(self, **info: Any) -> None:
        """Puts `info` (e.g. the outbox relay) on every session this database opens."""
        self.sessions.configure(info=info)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def _tune_sqlite(sync_engine: Any, synchronous: str) -> None:
    # WAL lets readers run beside the one writer. synchronous=NORMAL in WAL mode
    # survives a killed process (what our fault tests do) and never corrupts; only
    # a power cut can lose the last commits. MICROSHOP_SQLITE_SYNCHRONOUS=FULL trades
    # ~9x commit throughput for that (docs/decisions.md).
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.sessions() as s:
        yield s


Session = Annotated[AsyncSession, Depends(session)]
