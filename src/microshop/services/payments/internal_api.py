"""Routes the order saga calls; the gateway does not route /internal."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from microshop.chassis.deps import Db
from microshop.chassis.idempotency import RequiredIdempotencyKey, mark_replayed
from microshop.chassis.paging import IdPath, IdQuery
from microshop.services.payments import service
from microshop.services.payments.domain import Payment
from microshop.services.payments.schemas import (
    OrderRefund,
    PaymentCreate,
    PaymentPublic,
    RefundOrder,
)

router = APIRouter(prefix="/internal/payments", tags=["internal"])


async def max_amount(request: Request) -> Decimal:
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
    idempotency_key: RequiredIdempotencyKey,
    response: Response,
    db: Db,
    limit: MaxAmount,
) -> Payment:
    # A declined card is a business outcome (201, status "declined"), not an HTTP error.
    charged = await service.charge(db, new, idempotency_key, limit)
    if not charged.created:
        response.status_code = 200
        mark_replayed(response)
    return charged.payment


@router.post("/refund-order", response_model=OrderRefund)
async def refund_order(change: RefundOrder, db: Db) -> OrderRefund:
    payment = await service.refund_order(db, change.order_id)
    return OrderRefund(
        refunded=payment is not None,
        payment=PaymentPublic.model_validate(payment) if payment else None,
    )


@router.post("/{payment_id}/refund", response_model=PaymentPublic)
async def refund(payment_id: IdPath, db: Db) -> Payment:
    return await service.refund(db, payment_id)


@router.get("", response_model=list[PaymentPublic])
async def payments_of_order(db: Db, order_id: IdQuery) -> list[Payment]:
    return await service.payments_of_order(db, order_id)
