"""The stock reservations' statements, written once."""

from sqlalchemy import bindparam, select, update

from microshop.chassis.data import Query, insert_into
from microshop.services.catalog.domain import ReservationStatus
from microshop.services.catalog.models import (
    products,
    stock_reservation_lines,
    stock_reservations,
)

# The order's one reservation: a second insert for the same order inserts nothing.
NEW_RESERVATION = insert_into(
    stock_reservations, ["order_id", "status", "updated_at"], on_duplicate="skip"
)
NEW_LINE = insert_into(stock_reservation_lines, ["order_id", "product_id", "quantity"])
RESERVATION = Query(
    select(stock_reservations.c.status).where(
        stock_reservations.c.order_id == bindparam("order_id")
    )
)
LINES = Query(
    select(stock_reservation_lines.c.product_id, stock_reservation_lines.c.quantity)
    .where(stock_reservation_lines.c.order_id == bindparam("order_id"))
    .order_by(stock_reservation_lines.c.product_id)
)
STOCK_OF = Query(select(products.c.stock).where(products.c.id == bindparam("id")))
# Conditional: the database, not a read in Python, decides who gets the last unit.
TAKE_STOCK = Query(
    update(products)
    .where(products.c.id == bindparam("id"), products.c.stock >= bindparam("quantity"))
    .values(stock=products.c.stock - bindparam("quantity"))
)
PUT_BACK = Query(
    update(products)
    .where(products.c.id == bindparam("id"))
    .values(stock=products.c.stock + bindparam("quantity"))
)
# Conditional: of two concurrent restores only one flips the row and puts stock back.
MARK_RESTORED = Query(
    update(stock_reservations)
    .where(
        stock_reservations.c.order_id == bindparam("order_id"),
        stock_reservations.c.status == ReservationStatus.DECREASED.value,
    )
    .values(status=ReservationStatus.RESTORED.value, updated_at=bindparam("at"))
)
