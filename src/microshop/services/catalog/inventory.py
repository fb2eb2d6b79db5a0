"""Inventory use cases: decrease stock for an order and restore it, both
idempotent by order id and never below zero under any concurrency.

The decrease is one conditional UPDATE per line (`stock >= quantity` in the
WHERE clause), so the database, not a read-then-write in Python, decides who
gets the last unit. The reservation row keyed by order id makes a retry return
the first answer; a restore that arrives first leaves a tombstone so a late
decrease for a compensated order changes nothing.
"""

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.errors import ApiError, NotFound
from microshop.chassis.outbox import record_event
from microshop.contracts.events import StockDecreased, StockLine, StockRestored
from microshop.services.catalog.domain import ReservationStatus, merge_lines
from microshop.services.catalog.models import ProductRow, ReservationLineRow, ReservationRow


async def decrease_stock(
    session: AsyncSession, order_id: int, lines: list[StockLine]
) -> ReservationRow:
    if existing := await session.get(ReservationRow, order_id):
        return existing
    wanted = merge_lines(lines)
    try:
        for product_id, quantity in sorted(wanted.items()):  # one lock order: no deadlocks
            taken = await session.execute(
                update(ProductRow)
                .where(ProductRow.id == product_id, ProductRow.stock >= quantity)
                .values(stock=ProductRow.stock - quantity)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                await _refuse(session, product_id)
        reservation = ReservationRow(
            order_id=order_id, status=ReservationStatus.DECREASED, updated_at=datetime.now(UTC)
        )
        session.add(reservation)
        await session.flush()  # the reservation before its lines (foreign key)
        session.add_all(
            ReservationLineRow(order_id=order_id, product_id=p, quantity=q)
            for p, q in wanted.items()
        )
        await session.flush()
        await record_event(session, StockDecreased(order_id=order_id, items=_lines(wanted)))
        await session.commit()
        return reservation
    except IntegrityError:
        # A concurrent call for the same order won the insert: answer what it did.
        await session.rollback()
        return await _reservation(session, order_id)


async def restore_stock(session: AsyncSession, order_id: int) -> ReservationRow:
    # Flip the status first, conditionally: of two concurrent restores only one
    # sees rowcount 1, and only that one puts the stock back.
    flipped = await session.execute(
        update(ReservationRow)
        .where(
            ReservationRow.order_id == order_id,
            ReservationRow.status == ReservationStatus.DECREASED,
        )
        .values(status=ReservationStatus.RESTORED, updated_at=datetime.now(UTC))
    )
    if flipped.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return await _tombstone_unless_present(session, order_id)
    quantities = {
        line.product_id: line.quantity for line in await reservation_lines(session, order_id)
    }
    for product_id, quantity in sorted(quantities.items()):
        await session.execute(
            update(ProductRow)
            .where(ProductRow.id == product_id)
            .values(stock=ProductRow.stock + quantity)
        )
    await record_event(session, StockRestored(order_id=order_id, items=_lines(quantities)))
    await session.commit()
    return await _reservation(session, order_id)


async def _tombstone_unless_present(session: AsyncSession, order_id: int) -> ReservationRow:
    """Nothing was decreased (yet): remember the restore so a late decrease is a no-op."""
    if existing := await session.get(ReservationRow, order_id):
        return existing
    tombstone = ReservationRow(
        order_id=order_id, status=ReservationStatus.RESTORED, updated_at=datetime.now(UTC)
    )
    session.add(tombstone)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return await _reservation(session, order_id)
    return tombstone


async def reservation_lines(session: AsyncSession, order_id: int) -> list[ReservationLineRow]:
    query = select(ReservationLineRow).where(ReservationLineRow.order_id == order_id)
    return list(await session.scalars(query))


async def _reservation(session: AsyncSession, order_id: int) -> ReservationRow:
    reservation = await session.get(ReservationRow, order_id)
    if reservation is None:
        raise NotFound("Reservation not found")
    return reservation


async def _refuse(session: AsyncSession, product_id: int) -> None:
    available = await session.scalar(select(ProductRow.stock).where(ProductRow.id == product_id))
    if available is None:
        raise NotFound("Product not found")
    raise ApiError(409, "Out of stock", product_id=product_id, available=available)


def _lines(quantities: dict[int, int]) -> list[StockLine]:
    return [StockLine(product_id=p, quantity=q) for p, q in sorted(quantities.items())]
