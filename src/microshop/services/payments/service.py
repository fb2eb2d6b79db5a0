"""Payment use cases: charge once per Idempotency-Key and at most once per order,
refund at most once.

Races are decided by the database's unique keys, not by a read in Python: a
request that loses an insert rolls back and answers what the winner did. The
reads before each insert only shape the answer for the common, sequential case.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.auth import Principal
from microshop.chassis.db import utc_now
from microshop.chassis.errors import ApiError, Conflict, NotFound
from microshop.chassis.outbox import record_event
from microshop.contracts.events import Event, PaymentFailed, PaymentRefunded, PaymentSucceeded
from microshop.services.payments.domain import (
    ORDER_CANCELLED,
    Page,
    PaymentStatus,
    card_last4,
    decide,
    declined,
    visible_to,
)
from microshop.services.payments.models import OrderChargeRow, PaymentRow
from microshop.services.payments.schemas import PaymentCreate

PaymentFact = type[PaymentSucceeded] | type[PaymentFailed] | type[PaymentRefunded]


@dataclass(frozen=True, slots=True)
class Charged:
    payment: PaymentRow
    # False when the Idempotency-Key's first request had already answered.
    created: bool


async def charge(
    session: AsyncSession, new: PaymentCreate, key: str, max_amount: Decimal
) -> Charged:
    try:
        return await _charge_once(session, new, key, max_amount)
    except IntegrityError:
        # A concurrent request won a unique key (the same Idempotency-Key, or this
        # order's one charge) and has committed: a second pass answers what it did.
        await session.rollback()
        return await _charge_once(session, new, key, max_amount)


async def _charge_once(
    session: AsyncSession, new: PaymentCreate, key: str, max_amount: Decimal
) -> Charged:
    if earlier := await _by_key(session, key):
        return Charged(_same_request(earlier, new), created=False)
    slot = await session.get(OrderChargeRow, new.order_id)
    if slot is not None and slot.payment_id is not None:
        # The charge may be this very key's, committed by a concurrent request after
        # our lookup above (SQLite reads outside a write see each commit at once).
        paid = await session.get(PaymentRow, slot.payment_id)
        if paid is not None and paid.idempotency_key == key:
            return Charged(_same_request(paid, new), created=False)
        raise ApiError(409, "Order already paid", payment_id=slot.payment_id)
    decision = (
        declined(ORDER_CANCELLED)
        if slot is not None
        else decide(new.card_number, new.amount, max_amount)
    )
    payment = PaymentRow(
        idempotency_key=key,
        order_id=new.order_id,
        user_id=new.user_id,
        amount=new.amount,
        status=decision.status,
        reason=decision.reason,
        card_last4=card_last4(new.card_number),
    )
    session.add(payment)
    await session.flush()
    if decision.approved:
        session.add(OrderChargeRow(order_id=new.order_id, payment_id=payment.id))
        await session.flush()
    await record_event(
        session, _fact(PaymentSucceeded if decision.approved else PaymentFailed, payment)
    )
    await session.commit()
    return Charged(payment, created=True)


def _same_request(earlier: PaymentRow, new: PaymentCreate) -> PaymentRow:
    if earlier.order_id != new.order_id or earlier.amount != new.amount:
        raise ApiError(422, "Idempotency-Key reused with a different request")
    return earlier


async def refund(session: AsyncSession, payment_id: int) -> PaymentRow:
    # Flip the status conditionally: of two concurrent refunds only one sees
    # rowcount 1, and only that one records the event.
    flipped = await session.execute(
        update(PaymentRow)
        .where(PaymentRow.id == payment_id, PaymentRow.status == PaymentStatus.SUCCEEDED)
        .values(status=PaymentStatus.REFUNDED, refunded_at=utc_now())
    )
    if flipped.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        payment = await get_payment(session, payment_id)
        if payment.status == PaymentStatus.DECLINED:
            raise Conflict("Payment was not charged")
        return payment
    payment = await get_payment(session, payment_id)
    await record_event(session, _fact(PaymentRefunded, payment))
    await session.commit()
    return payment


async def refund_order(session: AsyncSession, order_id: int) -> PaymentRow | None:
    """Refunds the order's charge, if it has one. Without one it leaves a void, so a
    charge still in flight (the saga timed out waiting for it) is declined when it
    lands instead of taking money for an order that was given up."""
    try:
        return await _refund_order_once(session, order_id)
    except IntegrityError:
        # The charge landed between our read and our void: refund it instead.
        await session.rollback()
        return await _refund_order_once(session, order_id)


async def _refund_order_once(session: AsyncSession, order_id: int) -> PaymentRow | None:
    slot = await session.get(OrderChargeRow, order_id)
    if slot is None:
        session.add(OrderChargeRow(order_id=order_id, payment_id=None))
        await session.commit()
        return None
    if slot.payment_id is None:
        return None
    return await refund(session, slot.payment_id)


async def get_payment(session: AsyncSession, payment_id: int) -> PaymentRow:
    query = select(PaymentRow).where(PaymentRow.id == payment_id)
    payment = await session.scalar(query.execution_options(populate_existing=True))
    if payment is None:
        raise NotFound("Payment not found")
    return payment


async def payment_for(session: AsyncSession, payment_id: int, viewer: Principal) -> PaymentRow:
    payment = await session.get(PaymentRow, payment_id)
    # Another user's payment is answered exactly like a missing one.
    if payment is None or not visible_to(payment.user_id, viewer.user_id, viewer.is_admin):
        raise NotFound("Payment not found")
    return payment


async def payments_of_order(session: AsyncSession, order_id: int) -> list[PaymentRow]:
    query = select(PaymentRow).where(PaymentRow.order_id == order_id).order_by(PaymentRow.id)
    return list(await session.scalars(query))


async def list_payments(
    session: AsyncSession, viewer: Principal, order_id: int | None, page: Page
) -> list[PaymentRow]:
    query = select(PaymentRow)
    if not viewer.is_admin:
        query = query.where(PaymentRow.user_id == viewer.user_id)
    if order_id is not None:
        query = query.where(PaymentRow.order_id == order_id)
    query = query.order_by(PaymentRow.id).limit(page.limit).offset(page.offset)
    return list(await session.scalars(query))


async def _by_key(session: AsyncSession, key: str) -> PaymentRow | None:
    return await session.scalar(select(PaymentRow).where(PaymentRow.idempotency_key == key))


def _fact(kind: PaymentFact, payment: PaymentRow) -> Event:
    return kind(
        id=payment.id,
        order_id=payment.order_id,
        user_id=payment.user_id,
        amount=payment.amount,
        status=payment.status,
        reason=payment.reason,
    )
