"""The read model's statements, written once, and rows read back as views."""

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.sql.expression import BindParameter

from microshop.chassis.bus import BATCH
from microshop.chassis.data import Database, Query, Transaction, insert_into
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import fetch_record, row_reader
from microshop.chassis.data.values import optional_money, optional_timestamp
from microshop.chassis.paging import Page
from microshop.services.order_history.domain import OrderView
from microshop.services.order_history.models import order_views

COLUMNS = [column.name for column in order_views.columns]

VIEW = Query(select(order_views).where(order_views.c.order_id == bindparam("order_id")))


@lru_cache(maxsize=BATCH)
def _locked_views(count: int) -> Query:
    """The views of `count` orders (:o0 ... :oN), compiled once per count. FOR UPDATE:
    two batches folding the same order take turns on PostgreSQL and MariaDB instead
    of one overwriting the other (SQLite has one writer anyway); in order_id order,
    so that they lock in the same order."""
    ids: list[BindParameter[int]] = [bindparam(f"o{i}") for i in range(count)]
    return Query(
        select(order_views)
        .where(order_views.c.order_id.in_(ids))
        .order_by(order_views.c.order_id)
        .with_for_update()
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


async def lock_views(tx: Transaction, order_ids: list[int]) -> dict[int, OrderView]:
    """The views that exist of these orders (at most BATCH), by order id, locked."""
    ids = sorted(set(order_ids))
    rows = await tx.fetch_all(
        _locked_views(len(ids)), **{f"o{i}": order_id for i, order_id in enumerate(ids)}
    )
    return {row["order_id"]: view_from(row) for row in rows}


async def add_views(tx: Transaction, views: list[OrderView]) -> None:
    """Raises UniqueViolation if another transaction created one meanwhile."""
    if views:
        await tx.execute_many(NEW_VIEW, [_columns_of(view) for view in views])


async def change_views(tx: Transaction, views: list[OrderView]) -> None:
    if views:
        await tx.execute_many(CHANGE_VIEW, [_columns_of(view) for view in views])
