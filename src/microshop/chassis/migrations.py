"""Alembic per service, applied on start.

A service's `migrations/env.py` is two lines:

    from microshop.chassis.migrations import run_migrations
    run_migrations(Base.metadata)
"""

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from microshop.chassis.db import Database


def run_migrations(metadata: MetaData) -> None:
    connection: Connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def upgrade_to_head(db: Database, script_location: Path) -> None:
    def _upgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(script_location))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Replicas starting together take turns; the lock ends with the transaction.
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
        await conn.run_sync(_upgrade)


def create_event_tables() -> None:
    """Creates the outbox and inbox tables; call from a service's migration."""
    from alembic import op

    from microshop.chassis.inbox import inbox
    from microshop.chassis.outbox import outbox

    for table in (outbox, inbox):
        table.create(op.get_bind(), checkfirst=True)
