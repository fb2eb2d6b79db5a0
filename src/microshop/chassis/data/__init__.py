"""The data port: every service's SQL goes through here, written once.

Statements are SQLAlchemy Core (the tables are the schema, Alembic the
migrations), compiled once per dialect and run without the ORM: on SQLite through
the standard library's sqlite3 in the event-loop thread, on PostgreSQL through an
asyncpg pool, on MariaDB/MySQL through an asyncmy pool.

    PRODUCT = Query(select(products).where(products.c.id == bindparam("id")))

    db = await open_database(settings.resolved_database_url())
    row = await db.fetch_one(PRODUCT, id=1)
    async with db.transaction() as tx:
        await tx.execute(TAKE_STOCK, id=1, quantity=2)
        tx.after_commit(relay.wake)

A unique constraint is the authority on duplicates: an insert that loses raises
`UniqueViolation` (or, written with `on_duplicate="skip"`, inserts nothing and
says so), never a read-then-insert.
"""

from microshop.chassis.data.database import Database, Row, Transaction, open_database
from microshop.chassis.data.errors import IntegrityViolation, UniqueViolation
from microshop.chassis.data.query import Query, insert_into
from microshop.chassis.data.values import flag, money, timestamp, utc_now

__all__ = [
    "Database",
    "IntegrityViolation",
    "Query",
    "Row",
    "Transaction",
    "UniqueViolation",
    "flag",
    "insert_into",
    "money",
    "open_database",
    "timestamp",
    "utc_now",
]
