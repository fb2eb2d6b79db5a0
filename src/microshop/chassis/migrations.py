"""Alembic per service, applied on start.

A service's `migrations/env.py` is two lines:

    from microshop.chassis.migrations import run_migrations
    run_migrations(metadata)
"""

import fcntl
import re
from pathlib import Path

from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import Connection

from microshop.chassis.data import Database, Query

# Replicas starting together take turns on PostgreSQL (the lock ends with the transaction).
MIGRATION_LOCK = 727274
_REVISION = re.compile(r'^(down_)?revision\s*=\s*["\']?([\w-]+|None)["\']?', re.MULTILINE)


def run_migrations(metadata: MetaData) -> None:
    from alembic import context

    connection: Connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def head_revision(script_location: Path) -> str | None:
    """The newest revision, read from the files: the one nothing names as its parent."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (script_location / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text()):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def _upgrade(connection: Connection, script_location: Path) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _migrate(connection: Connection, script_location: Path, head: str | None) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
    # Most starts find the database current: then Alembic need not even be imported.
    if head is None or _current(connection) != head:
        _upgrade(connection, script_location)


CURRENT = Query(text("SELECT version_num FROM alembic_version"))


async def _current_through_port(db: Database) -> str | None:
    try:
        return await db.fetch_value(CURRENT)  # type: ignore[no-any-return]
    except Exception:  # no such table yet: a new database (each driver says it its own way)
        return None


async def upgrade_to_head(db: Database, script_location: Path) -> None:
    head = head_revision(script_location)
    # Most starts find the database current: asked through the port, that costs
    # neither an SQLAlchemy engine nor Alembic (both are imported only to migrate).
    if head is not None and await _current_through_port(db) == head:
        return
    if db.dialect == "sqlite":
        # The stdlib driver, synchronously: start-up only, and no async engine needed.
        # Replicas sharing the file take turns (a file lock: SQLite's DDL takes none).
        engine = create_engine(db.migration_url)
        lock_path = db.migration_url.removeprefix("sqlite:///") + ".migrate-lock"
        try:
            with open(lock_path, "w") as lock:  # noqa: ASYNC230 (start-up, before serving)
                fcntl.flock(lock, fcntl.LOCK_EX)
                with engine.begin() as conn:
                    _migrate(conn, script_location, head)
        finally:
            engine.dispose()
        return
    from sqlalchemy.ext.asyncio import create_async_engine

    async_engine = create_async_engine(db.migration_url)
    try:
        async with async_engine.begin() as conn:
            await conn.run_sync(_migrate, script_location, head)
    finally:
        await async_engine.dispose()


def create_event_tables() -> None:
    """Creates the outbox and inbox tables; call from a service's migration."""
    from alembic import op

    from microshop.chassis.event_tables import inbox, outbox

    for table in (outbox, inbox):
        table.create(op.get_bind(), checkfirst=True)


def refuse_to_drop_event_tables() -> None:
    """The downgrade of a migration that created the event tables."""
    raise NotImplementedError("the event tables hold undelivered events; drop them by hand")
