"""The read model's statements, written once, and rows read back as views."""

import json
from typing import Any

from sqlalchemy import bindparam, select, update

from microshop.chassis.data import Database, Query, Transaction, insert_into
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import fetch_record, row_reader
from microshop.chassis.data.values import optional_money, optional_timestamp
from microshop.chassis.paging import Page
from microshop.services.order_history.domain import OrderView
from microshop.services.order_history.models import order_views

COLUMNS = [column.name for column in order_views.columns]

VIEW = Query(select(order_views).where(order_views.c.order_id == bindparam("order_id")))
# FOR UPDATE: two batches folding the same order take turns on PostgreSQL and
# MariaDB instead of one overwriting the other (SQLite has one writer anyway).
LOCKED_VIEW = Query(
    select(order_views).where(order_views.c.order_id == bindparam("order_id")).with_for_update()
)
NEW_VIEW = insert_into(order_views, COLUMNS)
CHANGE_VIEW = Query(
    update(order_views)
    .where(order_views.c.order_id == bindparam("order_id"))
    .values({name: bindparam(name) for name in COLUMNS if name != "order_id"})
)
LISTING = Listing(order_views, order_views.c.order_id.desc(), filters=("user_id",))


_TIMES = dict.fromkeys(
    ("status_at", "payment_at", "shipment_at", "placed_at", "updated_at"), optional_timestamp
)


def _items(text: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(text))


view_from = row_reader(OrderView, items=_items, total=optional_money, **_TIMES)


def _columns_of(view: OrderView) -> dict[str, Any]:
    values = {name: getattr(view, name) for name in COLUMNS}
    values["items"] = json.dumps(list(view.items))
    return values


async def find_view(db: Database, order_id: int) -> OrderView | None:
    return await fetch_record(db, VIEW, view_from, order_id=order_id)


async def list_views(db: Database, page: Page, user_id: int | None) -> list[OrderView]:
    """The newest orders first; `user_id` None lists every customer's."""
    return [view_from(row) for row in await LISTING.fetch(db, page, user_id=user_id)]


async def lock_view(tx: Transaction, order_id: int) -> OrderView | None:
    return await fetch_record(tx, LOCKED_VIEW, view_from, order_id=order_id)


async def add_view(tx: Transaction, view: OrderView) -> None:
    """Raises UniqueViolation if another transaction created it meanwhile."""
    await tx.insert(NEW_VIEW, **_columns_of(view))


async def change_view(tx: Transaction, view: OrderView) -> None:
    await tx.execute(CHANGE_VIEW, **_columns_of(view))
