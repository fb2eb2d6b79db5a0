"""Routes the order saga calls; the gateway does not route /internal."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from microshop.chassis.db import Session
from microshop.services.payments import service
from microshop.services.payments.domain import MAX_IDEMPOTENCY_KEY
from microshop.services.payments.models import PaymentRow
from microshop.services.payments.schemas import (
    OrderRefund,
    PaymentCreate,
    PaymentPublic,
    RefundOrder,
)

router = APIRouter(prefix="/internal/payments", tags=["internal"])

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        description="A retry with the same key returns the first payment, never a second charge",
    ),
]


def max_amount(request: Request) -> Decimal:
    return Decimal(request.app.state.settings.max_amount)


MaxAmount = Annotated[Decimal, Depends(max_amount)]


@router.post(
    "",
    response_model=PaymentPublic,
    status_code=201,
    responses={200: {"description": "a retry: the key's first payment"}},
)
async def charge(
    new: PaymentCreate,
    idempotency_key: IdempotencyKey,
    response: Response,
    session: Session,
    limit: MaxAmount,
) -> PaymentRow:
    # A declined card is a business outcome (201, status "declined"), not an HTTP error.
    charged = await service.charge(session, new, idempotency_key, limit)
    if not charged.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return charged.payment


@router.post("/refund-order", response_model=OrderRefund)
async def refund_order(change: RefundOrder, session: Session) -> OrderRefund:
    payment = await service.refund_order(session, change.order_id)
    return OrderRefund(
        refunded=payment is not None,
        payment=PaymentPublic.model_validate(payment) if payment else None,
    )


@router.post("/{payment_id}/refund", response_model=PaymentPublic)
async def refund(payment_id: int, session: Session) -> PaymentRow:
    return await service.refund(session, payment_id)


@router.get("", response_model=list[PaymentPublic])
async def payments_of_order(
    session: Session, order_id: Annotated[int, Query(ge=1)]
) -> list[PaymentRow]:
    return await service.payments_of_order(session, order_id)
