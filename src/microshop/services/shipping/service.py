"""Shipment use cases: one shipment per order, decided by its unique order id."""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.auth import Principal
from microshop.chassis.db import utc_now
from microshop.chassis.errors import ApiError, Conflict, NotFound
from microshop.chassis.outbox import record_event
from microshop.contracts.events import Event, ShipmentAdvanced, ShipmentCancelled, ShipmentCreated
from microshop.services.shipping.domain import (
    CannotAdvance,
    Page,
    ShipmentStatus,
    may_cancel,
    new_tracking_number,
    next_status,
    refuses,
    visible_to,
)
from microshop.services.shipping.models import ShipmentRow
from microshop.services.shipping.schemas import ShipmentCreate

ShipmentFact = type[ShipmentCreated] | type[ShipmentCancelled] | type[ShipmentAdvanced]

# A lost insert is a concurrent create for the same order (the next pass finds it)
# or, about once in 36**10, a tracking number drawn twice (the next pass draws anew).
CREATE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Created:
    shipment: ShipmentRow
    # False when the order already had a shipment (or a cancellation tombstone).
    created: bool


async def create_shipment(session: AsyncSession, new: ShipmentCreate, refuse_all: bool) -> Created:
    for _ in range(CREATE_ATTEMPTS):
        if existing := await _by_order(session, new.order_id):
            return Created(existing, created=False)
        if refuses(new.address, refuse_all):
            raise ApiError(422, "Shipping refused")
        try:
            return Created(await _insert(session, new), created=True)
        except IntegrityError:
            await session.rollback()
    raise RuntimeError(f"no shipment for order {new.order_id} after {CREATE_ATTEMPTS} attempts")


async def _insert(session: AsyncSession, new: ShipmentCreate) -> ShipmentRow:
    shipment = ShipmentRow(
        order_id=new.order_id,
        user_id=new.user_id,
        address=new.address,
        tracking_number=new_tracking_number(),
        status=ShipmentStatus.CREATED,
    )
    session.add(shipment)
    await session.flush()
    await record_event(session, _fact(ShipmentCreated, shipment))
    await session.commit()
    return shipment


async def cancel_shipment(session: AsyncSession, order_id: int) -> ShipmentRow:
    # Flip the status conditionally: of two concurrent cancels only one sees
    # rowcount 1, and only that one records the event.
    flipped = await session.execute(
        update(ShipmentRow)
        .where(ShipmentRow.order_id == order_id, ShipmentRow.status == ShipmentStatus.CREATED)
        .values(status=ShipmentStatus.CANCELLED, updated_at=utc_now())
    )
    if flipped.rowcount == 1:  # type: ignore[attr-defined]
        shipment = await shipment_of_order(session, order_id)
        await record_event(session, _fact(ShipmentCancelled, shipment))
        await session.commit()
        return shipment
    await session.rollback()
    if existing := await _by_order(session, order_id):
        if not may_cancel(ShipmentStatus(existing.status)):
            raise Conflict("Shipment already shipped")
        return existing
    return await _tombstone(session, order_id)


async def _tombstone(session: AsyncSession, order_id: int) -> ShipmentRow:
    """No shipment yet: remember the cancellation so a late create is a no-op."""
    tombstone = ShipmentRow(order_id=order_id, status=ShipmentStatus.CANCELLED)
    session.add(tombstone)
    try:
        await session.commit()
    except IntegrityError:
        # A create won the order id meanwhile; cancel that shipment. This recurses at
        # most once: the order id, once taken, stays taken.
        await session.rollback()
        return await cancel_shipment(session, order_id)
    return tombstone


async def advance_shipment(session: AsyncSession, shipment_id: int) -> ShipmentRow:
    shipment = await _get(session, shipment_id)
    current = ShipmentStatus(shipment.status)
    try:
        target = next_status(current)
    except CannotAdvance as exc:
        raise Conflict(str(exc)) from None
    moved = await session.execute(
        update(ShipmentRow)
        .where(ShipmentRow.id == shipment_id, ShipmentRow.status == current)
        .values(status=target, updated_at=utc_now())
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise Conflict("Shipment was changed by another request")
    shipment = await _get(session, shipment_id)
    await record_event(session, _fact(ShipmentAdvanced, shipment))
    await session.commit()
    return shipment


async def shipment_for(session: AsyncSession, shipment_id: int, viewer: Principal) -> ShipmentRow:
    shipment = await session.get(ShipmentRow, shipment_id)
    # Another user's shipment is answered exactly like a missing one.
    if shipment is None or not visible_to(shipment.user_id, viewer.user_id, viewer.is_admin):
        raise NotFound("Shipment not found")
    return shipment


async def list_shipments(
    session: AsyncSession, viewer: Principal, order_id: int | None, page: Page
) -> list[ShipmentRow]:
    query = select(ShipmentRow)
    if not viewer.is_admin:
        query = query.where(ShipmentRow.user_id == viewer.user_id)
    if order_id is not None:
        query = query.where(ShipmentRow.order_id == order_id)
    query = query.order_by(ShipmentRow.id).limit(page.limit).offset(page.offset)
    return list(await session.scalars(query))


async def shipment_of_order(session: AsyncSession, order_id: int) -> ShipmentRow:
    if shipment := await _by_order(session, order_id):
        return shipment
    raise NotFound("Shipment not found")


async def _by_order(session: AsyncSession, order_id: int) -> ShipmentRow | None:
    query = select(ShipmentRow).where(ShipmentRow.order_id == order_id)
    return await session.scalar(query.execution_options(populate_existing=True))


async def _get(session: AsyncSession, shipment_id: int) -> ShipmentRow:
    query = select(ShipmentRow).where(ShipmentRow.id == shipment_id)
    shipment = await session.scalar(query.execution_options(populate_existing=True))
    if shipment is None:
        raise NotFound("Shipment not found")
    return shipment


def _fact(kind: ShipmentFact, shipment: ShipmentRow) -> Event:
    return kind(
        id=shipment.id,
        order_id=shipment.order_id,
        # Only a tombstone has no tracking number, and a tombstone records no event.
        tracking_number=shipment.tracking_number or "",
        status=shipment.status,
    )
