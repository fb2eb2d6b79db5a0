"""Payment use cases: charge once per Idempotency-Key and at most once per order,
refund at most once.

Races are decided by the database's unique keys, not by a read in Python: the
insert comes first, and only an insert that finds its key taken reads what is
there to shape the answer.
"""

from dataclasses import dataclass
from decimal import Decimal

from microshop.chassis.auth import Principal
from microshop.chassis.data import Database, Transaction, utc_now
from microshop.chassis.data.records import fetch_record
from microshop.chassis.outbox import record_event
from microshop.chassis.paging import Page
from microshop.contracts.errors import IdempotencyKeyReused
from microshop.contracts.events import PaymentFailed, PaymentRefunded, PaymentSucceeded
from microshop.services.payments import store
from microshop.services.payments.domain import (
    ORDER_CANCELLED,
    Decision,
    NotCharged,
    OrderAlreadyPaid,
    Payment,
    PaymentNotFound,
    PaymentStatus,
    card_last4,
    decide,
    declined,
    visible_to,
)
from microshop.services.payments.schemas import PaymentCreate


@dataclass(frozen=True, slots=True)
class Charged:
    payment: Payment
    # False when the Idempotency-Key's first request had already answered.
    created: bool


class _SlotTaken(Exception):
    """The order's one charge slot holds a payment or a void already."""


async def charge(db: Database, new: PaymentCreate, key: str, max_amount: Decimal) -> Charged:
    decision = decide(new.card_number, new.amount, max_amount)
    try:
        return await _charge(db, new, key, decision)
    except _SlotTaken:
        pass
    # The order's slot is taken: by a void (the saga gave the order up), by this
    # key's own charge committed meanwhile, or by another charge.
    slot = await db.fetch_one(store.SLOT, order_id=new.order_id)
    if slot is not None and slot["payment_id"] is None:
        return await _charge(db, new, key, declined(ORDER_CANCELLED))
    earlier = await _by_key(db, key)
    if earlier is not None:
        return Charged(_same_request(earlier, new), created=False)
    assert slot is not None
    raise OrderAlreadyPaid(slot["payment_id"])


async def _charge(db: Database, new: PaymentCreate, key: str, decision: Decision) -> Charged:
    now = utc_now()
    async with db.transaction() as tx:
        payment_id = await tx.insert(
            store.NEW_PAYMENT,
            idempotency_key=key,
            order_id=new.order_id,
            user_id=new.user_id,
            amount=new.amount,
            status=decision.status.value,
            reason=decision.reason,
            card_last4=card_last4(new.card_number),
            created_at=now,
        )
        if payment_id is None:
            earlier = await _by_key(tx, key)
            assert earlier is not None
            return Charged(_same_request(earlier, new), created=False)
        if decision.approved:
            took = await tx.insert(
                store.TAKE_SLOT, order_id=new.order_id, payment_id=payment_id, created_at=now
            )
            if took is None:
                raise _SlotTaken  # rolls the payment back too
        payment = Payment(
            id=payment_id,
            idempotency_key=key,
            order_id=new.order_id,
            user_id=new.user_id,
            amount=new.amount,
            status=decision.status,
            reason=decision.reason,
            card_last4=card_last4(new.card_number),
            created_at=now,
            refunded_at=None,
        )
        await record_event(tx, _fact(payment))
    return Charged(payment, created=True)


def _same_request(earlier: Payment, new: PaymentCreate) -> Payment:
    if not earlier.same_request(new.order_id, new.amount):
        raise IdempotencyKeyReused
    return earlier


async def refund(db: Database, payment_id: int) -> Payment:
    async with db.transaction() as tx:
        return await _refund(tx, payment_id)


async def _refund(tx: Transaction, payment_id: int) -> Payment:
    flipped = await tx.execute(store.MARK_REFUNDED, id=payment_id, at=utc_now())
    payment = await _by_id(tx, payment_id)
    if payment is None:
        raise PaymentNotFound
    if flipped:
        await record_event(tx, _fact(payment))
    elif payment.status == PaymentStatus.DECLINED:
        raise NotCharged
    return payment


async def refund_order(db: Database, order_id: int) -> Payment | None:
    """Refunds the order's charge, if it has one. Without one it leaves a void, so a
    charge still in flight (the saga timed out waiting for it) is declined when it
    lands instead of taking money for an order that was given up."""
    async with db.transaction() as tx:
        voided = await tx.insert(
            store.TAKE_SLOT, order_id=order_id, payment_id=None, created_at=utc_now()
        )
        if voided is not None:
            return None
        slot = await tx.fetch_one(store.SLOT, order_id=order_id)
        if slot is None or slot["payment_id"] is None:
            return None
        return await _refund(tx, slot["payment_id"])


async def payment_for(db: Database, payment_id: int, viewer: Principal) -> Payment:
    payment = await _by_id(db, payment_id)
    # Another user's payment is answered exactly like a missing one.
    if payment is None or not visible_to(payment.user_id, viewer.user_id, viewer.is_admin):
        raise PaymentNotFound
    return payment


async def payments_of_order(db: Database, order_id: int) -> list[Payment]:
    return [
        store.payment_from(row) for row in await db.fetch_all(store.OF_ORDER, order_id=order_id)
    ]


async def list_payments(
    db: Database, viewer: Principal, order_id: int | None, page: Page
) -> list[Payment]:
    rows = await store.LISTING.fetch(db, page, user_id=viewer.owner_filter, order_id=order_id)
    return [store.payment_from(row) for row in rows]


async def _by_id(source: Database | Transaction, payment_id: int) -> Payment | None:
    return await fetch_record(source, store.BY_ID, store.payment_from, id=payment_id)


async def _by_key(source: Database | Transaction, key: str) -> Payment | None:
    return await fetch_record(source, store.BY_KEY, store.payment_from, key=key)


_FACTS = {
    PaymentStatus.SUCCEEDED: PaymentSucceeded,
    PaymentStatus.DECLINED: PaymentFailed,
    PaymentStatus.REFUNDED: PaymentRefunded,
}


def _fact(payment: Payment) -> PaymentSucceeded | PaymentFailed | PaymentRefunded:
    return _FACTS[payment.status](
        id=payment.id,
        order_id=payment.order_id,
        user_id=payment.user_id,
        amount=payment.amount,
        status=payment.status.value,
        reason=payment.reason,
    )
