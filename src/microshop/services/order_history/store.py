"""The read model's statements, written once, and rows read back as views."""

import json
from typing import Any

from sqlalchemy import bindparam, select, update

from microshop.chassis.data import Database, Query, Row, Transaction, insert_into
from microshop.chassis.data.listing import Listing
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


def view_from(row: Row) -> OrderView:
    return OrderView(
        order_id=row["order_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        user_email=row["user_email"],
        items=tuple(json.loads(row["items"])),
        total=optional_money(row["total"]),
        status=row["status"],
        status_at=optional_timestamp(row["status_at"]),
        reason=row["reason"],
        payment_status=row["payment_status"],
        payment_at=optional_timestamp(row["payment_at"]),
        shipment_status=row["shipment_status"],
        shipment_at=optional_timestamp(row["shipment_at"]),
        tracking_number=row["tracking_number"],
        placed_at=optional_timestamp(row["placed_at"]),
        updated_at=optional_timestamp(row["updated_at"]),
    )


def _columns_of(view: OrderView) -> dict[str, Any]:
    values = {name: getattr(view, name) for name in COLUMNS}
    values["items"] = json.dumps(list(view.items))
    return values


async def find_view(db: Database, order_id: int) -> OrderView | None:
    row = await db.fetch_one(VIEW, order_id=order_id)
    return None if row is None else view_from(row)


async def list_views(db: Database, page: Page, user_id: int | None) -> list[OrderView]:
    """The newest orders first; `user_id` None lists every customer's."""
    return [view_from(row) for row in await LISTING.fetch(db, page, user_id=user_id)]


async def lock_view(tx: Transaction, order_id: int) -> OrderView | None:
    row = await tx.fetch_one(LOCKED_VIEW, order_id=order_id)
    return None if row is None else view_from(row)


async def add_view(tx: Transaction, view: OrderView) -> None:
    """Raises UniqueViolation if another transaction created it meanwhile."""
    await tx.insert(NEW_VIEW, **_columns_of(view))


async def change_view(tx: Transaction, view: OrderView) -> None:
    await tx.execute(CHANGE_VIEW, **_columns_of(view))
