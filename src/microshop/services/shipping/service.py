"""Shipment use cases: one shipment per order, decided by its unique order id.

Races are decided by the database's unique keys and conditional updates, not by
a read in Python: the write comes first, and only a write that finds nothing to do
reads what is there to shape the answer.
"""

from dataclasses import dataclass, replace

from microshop.chassis.auth import Principal
from microshop.chassis.data import Database, Transaction, utc_now
from microshop.chassis.data.records import fetch_record
from microshop.chassis.outbox import record_event
from microshop.chassis.paging import Page
from microshop.contracts.events import ShipmentAdvanced, ShipmentCancelled, ShipmentCreated
from microshop.services.shipping import store
from microshop.services.shipping.domain import (
    Shipment,
    ShipmentAlreadyShipped,
    ShipmentChangedMeanwhile,
    ShipmentNotFound,
    ShipmentStatus,
    ShippingRefused,
    may_cancel,
    new_tracking_number,
    next_status,
    refuses,
    visible_to,
)
from microshop.services.shipping.schemas import ShipmentCreate

ShipmentFact = type[ShipmentCreated] | type[ShipmentCancelled] | type[ShipmentAdvanced]

# A skipped insert whose order has no row drew a tracking number already taken
# (about once in 36**10); three draws in a row colliding is not bad luck.
CREATE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Created:
    shipment: Shipment
    # False when the order already had a shipment (or a cancellation tombstone).
    created: bool


async def create_shipment(db: Database, new: ShipmentCreate, refuse_all: bool) -> Created:
    if refuses(new.address, refuse_all):
        # A retried create for an order that already has its shipment still gets
        # it: the refusal is for new shipments only.
        existing = await _by_order(db, new.order_id)
        if existing is None:
            raise ShippingRefused
        return Created(existing, created=False)
    now = utc_now()
    async with db.transaction() as tx:
        for _ in range(CREATE_ATTEMPTS):
            tracking_number = new_tracking_number()
            shipment_id = await tx.insert(
                store.NEW_SHIPMENT,
                order_id=new.order_id,
                user_id=new.user_id,
                address=new.address,
                tracking_number=tracking_number,
                status=ShipmentStatus.CREATED.value,
                created_at=now,
                updated_at=now,
            )
            if shipment_id is not None:
                shipment = Shipment(
                    id=shipment_id,
                    order_id=new.order_id,
                    user_id=new.user_id,
                    address=new.address,
                    tracking_number=tracking_number,
                    status=ShipmentStatus.CREATED,
                    created_at=now,
                    updated_at=now,
                )
                await record_event(tx, _fact(ShipmentCreated, shipment))
                return Created(shipment, created=True)
            existing = await _by_order(tx, new.order_id)
            if existing is not None:
                return Created(existing, created=False)
        raise RuntimeError(f"no free tracking number for order {new.order_id}")


async def cancel_shipment(db: Database, order_id: int) -> Shipment:
    async with db.transaction() as tx:
        return await _cancel(tx, order_id)


async def _cancel(tx: Transaction, order_id: int, *, again: bool = True) -> Shipment:
    now = utc_now()
    if await tx.execute(store.CANCEL, order_id=order_id, at=now):
        cancelled = await _by_order(tx, order_id)
        assert cancelled is not None
        await record_event(tx, _fact(ShipmentCancelled, cancelled))
        return cancelled
    existing = await _by_order(tx, order_id)
    if existing is not None:
        if not may_cancel(existing.status):
            raise ShipmentAlreadyShipped
        if existing.status == ShipmentStatus.CREATED and again:
            # A create committed between the UPDATE and this read (PostgreSQL reads
            # each statement's own snapshot): the next UPDATE sees it. Once only, as
            # MariaDB's reads keep the transaction's first snapshot.
            return await _cancel(tx, order_id, again=False)
        return existing
    # No shipment yet: remember the cancellation so that a late create is a no-op.
    tombstone_id = await tx.insert(
        store.NEW_TOMBSTONE,
        order_id=order_id,
        status=ShipmentStatus.CANCELLED.value,
        created_at=now,
        updated_at=now,
    )
    if tombstone_id is None:
        # A create won the order id meanwhile; cancel that shipment. This recurses
        # at most once: the order id, once taken, stays taken.
        return await _cancel(tx, order_id, again=again)
    return Shipment(
        id=tombstone_id,
        order_id=order_id,
        user_id=None,
        address=None,
        tracking_number=None,
        status=ShipmentStatus.CANCELLED,
        created_at=now,
        updated_at=now,
    )


async def advance_shipment(db: Database, shipment_id: int) -> Shipment:
    shipment = await _by_id(db, shipment_id)
    if shipment is None:
        raise ShipmentNotFound
    moved = replace(shipment, status=next_status(shipment.status), updated_at=utc_now())
    async with db.transaction() as tx:
        matched = await tx.execute(
            store.ADVANCE,
            id=shipment_id,
            current=shipment.status.value,
            target=moved.status.value,
            at=moved.updated_at,
        )
        if not matched:
            raise ShipmentChangedMeanwhile
        await record_event(tx, _fact(ShipmentAdvanced, moved))
    return moved


async def shipment_for(db: Database, shipment_id: int, viewer: Principal) -> Shipment:
    shipment = await _by_id(db, shipment_id)
    # Another user's shipment is answered exactly like a missing one.
    if shipment is None or not visible_to(shipment.user_id, viewer.user_id, viewer.is_admin):
        raise ShipmentNotFound
    return shipment


async def list_shipments(
    db: Database, viewer: Principal, order_id: int | None, page: Page
) -> list[Shipment]:
    rows = await store.LISTING.fetch(db, page, user_id=viewer.owner_filter, order_id=order_id)
    return [store.shipment_from(row) for row in rows]


async def shipment_of_order(db: Database, order_id: int) -> Shipment:
    shipment = await _by_order(db, order_id)
    if shipment is None:
        raise ShipmentNotFound
    return shipment


async def _by_id(source: Database | Transaction, shipment_id: int) -> Shipment | None:
    return await fetch_record(source, store.BY_ID, store.shipment_from, id=shipment_id)


async def _by_order(source: Database | Transaction, order_id: int) -> Shipment | None:
    return await fetch_record(source, store.BY_ORDER, store.shipment_from, order_id=order_id)


def _fact(
    kind: ShipmentFact, shipment: Shipment
) -> ShipmentCreated | ShipmentCancelled | ShipmentAdvanced:
    return kind(
        id=shipment.id,
        order_id=shipment.order_id,
        # Only a tombstone has no tracking number, and a tombstone records no event.
        tracking_number=shipment.tracking_number or "",
        status=shipment.status.value,
    )
