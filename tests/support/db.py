"""Reading a service's database directly, through the same data port it uses."""

import json
from typing import Any

from sqlalchemy import select, text

from microshop.chassis.data import Query, open_database
from microshop.chassis.event_tables import outbox

OUTBOX = Query(select(outbox.c.type, outbox.c.body).order_by(outbox.c.seq))


async def fetch_rows(database_url: str, sql: str) -> list[dict[str, Any]]:
    db = await open_database(database_url)
    try:
        return [dict(row) for row in await db.fetch_all(Query(text(sql)))]
    finally:
        await db.close()


async def outbox_events(database_url: str) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of every event the service wrote to its outbox, oldest first."""
    db = await open_database(database_url)
    try:
        rows = await db.fetch_all(OUTBOX)
    finally:
        await db.close()
    return [(row["type"], json.loads(bytes(row["body"]))["data"]) for row in rows]
