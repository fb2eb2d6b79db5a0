"""Inventory use cases: decrease stock for an order and restore it, both
idempotent by order id and never below zero under any concurrency.

This is on the hot path of every order, so each is one short transaction that
writes first and reads only when the write says it has to: the reservation row
keyed by order id is inserted first (a retry finds it taken and answers what is
there), and each product's stock is taken by a conditional UPDATE
(`stock >= quantity` in the WHERE clause), so the database decides who gets the
last unit. A restore that arrives first leaves a tombstone, so a late decrease
for a compensated order changes nothing.
"""

from collections.abc import Iterable

from microshop.chassis.data import Database, Transaction, utc_now
from microshop.chassis.outbox import record_event
from microshop.contracts.events import StockDecreased, StockLine, StockRestored
from microshop.services.catalog import stock_store as store
from microshop.services.catalog.domain import (
    LineLike,
    OutOfStock,
    ProductNotFound,
    Reservation,
    ReservationLine,
    ReservationStatus,
    merge_lines,
)

DECREASED, RESTORED = ReservationStatus.DECREASED, ReservationStatus.RESTORED


class _Short(Exception):
    """A product could not give its line's quantity: the transaction rolls back."""

    def __init__(self, product_id: int) -> None:
        self.product_id = product_id


async def decrease_stock(db: Database, order_id: int, lines: Iterable[LineLike]) -> Reservation:
    wanted = merge_lines(lines)
    try:
        async with db.transaction() as tx:
            new = await tx.insert(
                store.NEW_RESERVATION,
                order_id=order_id,
                status=DECREASED.value,
                updated_at=utc_now(),
            )
            if new is None:  # a retry, or a restore came first (a tombstone)
                return await _stored(tx, order_id)
            for line in wanted:
                if not await tx.execute(
                    store.TAKE_STOCK, id=line.product_id, quantity=line.quantity
                ):
                    raise _Short(line.product_id)
            await tx.execute_many(
                store.NEW_LINE,
                [
                    {"order_id": order_id, "product_id": line.product_id, "quantity": line.quantity}
                    for line in wanted
                ],
            )
            await record_event(tx, StockDecreased(order_id=order_id, items=_facts(wanted)))
    except _Short as short:
        # Read after the rollback, outside any transaction: only a refusal pays for it.
        available = await db.fetch_value(store.STOCK_OF, id=short.product_id)
        if available is None:
            raise ProductNotFound from None
        raise OutOfStock(short.product_id, int(available)) from None
    return Reservation(order_id, DECREASED, wanted)


async def restore_stock(db: Database, order_id: int) -> Reservation:
    now = utc_now()
    async with db.transaction() as tx:
        if not await tx.execute(store.MARK_RESTORED, order_id=order_id, at=now):
            tombstone = await tx.insert(
                store.NEW_RESERVATION, order_id=order_id, status=RESTORED.value, updated_at=now
            )
            if tombstone is not None:
                return Reservation(order_id, RESTORED, ())
            # The row is there after all: restored already, or a decrease committed
            # between the two statements, which this second flip then restores.
            if not await tx.execute(store.MARK_RESTORED, order_id=order_id, at=now):
                return await _stored(tx, order_id)
        lines = await _lines(tx, order_id)
        for line in lines:
            await tx.execute(store.PUT_BACK, id=line.product_id, quantity=line.quantity)
        await record_event(tx, StockRestored(order_id=order_id, items=_facts(lines)))
    return Reservation(order_id, RESTORED, lines)


async def _stored(tx: Transaction, order_id: int) -> Reservation:
    status = await tx.fetch_value(store.RESERVATION, order_id=order_id)
    return Reservation(order_id, ReservationStatus(status), await _lines(tx, order_id))


async def _lines(tx: Transaction, order_id: int) -> tuple[ReservationLine, ...]:
    rows = await tx.fetch_all(store.LINES, order_id=order_id)
    return tuple(ReservationLine(row["product_id"], row["quantity"]) for row in rows)


def _facts(lines: Iterable[ReservationLine]) -> list[StockLine]:
    return [StockLine(product_id=line.product_id, quantity=line.quantity) for line in lines]
