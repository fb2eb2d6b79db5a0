"""The orders' statements, written once, and rows read back as domain objects."""

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import bindparam, select

from microshop.chassis.data import Query, Row, insert_into, money, timestamp
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import row_reader
from microshop.chassis.paging import MAX_PAGE
from microshop.services.orders.domain import Customer, Order, OrderLine, OrderStatus
from microshop.services.orders.models import order_lines, orders, saga_steps, sagas

# The unique (placed_by, idempotency_key) decides a retry: the insert is skipped.
NEW_ORDER = insert_into(
    orders,
    [
        "user_id",
        "user_name",
        "user_email",
        "status",
        "total",
        "placed_by",
        "idempotency_key",
        "request_hash",
        "created_at",
    ],
    on_duplicate="skip",
    returns_id=True,
)
NEW_LINE = insert_into(
    order_lines,
    ["order_id", "product_id", "product_name", "unit_price", "quantity", "line_total"],
)
BY_ID = Query(select(orders).where(orders.c.id == bindparam("id")))
BY_KEY = Query(
    select(orders).where(
        orders.c.placed_by == bindparam("placed_by"),
        orders.c.idempotency_key == bindparam("key"),
    )
)
LINES = Query(
    select(order_lines)
    .where(order_lines.c.order_id == bindparam("order_id"))
    .order_by(order_lines.c.id)
)
LISTING = Listing(orders, orders.c.id.desc(), filters=("user_id",))
SAGA = Query(select(sagas).where(sagas.c.order_id == bindparam("order_id")))
SAGA_LOG = Query(
    select(saga_steps)
    .where(saga_steps.c.order_id == bindparam("order_id"))
    .order_by(saga_steps.c.id)
)


@lru_cache(maxsize=MAX_PAGE)
def lines_of_orders(count: int) -> Query:
    """The lines of `count` orders (a page of them) in one statement."""
    ids = [bindparam(f"o{i}") for i in range(count)]
    return Query(
        select(order_lines)
        .where(order_lines.c.order_id.in_(ids))
        .order_by(order_lines.c.order_id, order_lines.c.id)
    )


def ids_params(order_ids: Sequence[int]) -> dict[str, int]:
    return {f"o{i}": order_id for i, order_id in enumerate(order_ids)}


line_from = row_reader(OrderLine, unit_price=money)


def order_from(row: Row, lines: Sequence[OrderLine]) -> Order:
    return Order(
        id=row["id"],
        customer=Customer(row["user_id"], row["user_name"], row["user_email"]),
        status=OrderStatus(row["status"]),
        total=money(row["total"]),
        lines=tuple(lines),
        created_at=timestamp(row["created_at"]),
        reason=row["reason"],
        request_hash=row["request_hash"],
    )
