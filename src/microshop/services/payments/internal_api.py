"""Routes the order saga calls; the gateway does not route /internal."""

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis.idempotency import required_key
from microshop.chassis.lean import LeanRoutes, database, path_id, query_id, reply
from microshop.services.payments import service
from microshop.services.payments.schemas import (
    OrderRefund,
    PaymentCreate,
    PaymentPublic,
    RefundOrder,
)

internal = LeanRoutes("/internal/payments")


@internal.post_json("", PaymentCreate)
async def charge(request: Request, new: PaymentCreate) -> Response:
    # A declined card is a business outcome (201, status "declined"), not an HTTP error;
    # a retry with the same key answers the first payment (200, Idempotent-Replayed).
    limit = Decimal(request.app.state.settings.max_amount)
    charged = await service.charge(database(request), new, required_key(request), limit)
    public = PaymentPublic.model_validate(charged.payment)
    if charged.created:
        return reply(public, status=201)
    return reply(public, headers={"Idempotent-Replayed": "true"})


@internal.post_json("/refund-order", RefundOrder)
async def refund_order(request: Request, change: RefundOrder) -> Response:
    payment = await service.refund_order(database(request), change.order_id)
    return reply(
        OrderRefund(
            refunded=payment is not None,
            payment=PaymentPublic.model_validate(payment) if payment else None,
        )
    )


@internal.post("/{payment_id}/refund")
async def refund(request: Request) -> Response:
    payment = await service.refund(database(request), path_id(request, "payment_id"))
    return reply(PaymentPublic.model_validate(payment))


@internal.get("")
async def payments_of_order(request: Request) -> Response:
    payments = await service.payments_of_order(database(request), query_id(request, "order_id"))
    return reply([PaymentPublic.model_validate(p).model_dump(mode="json") for p in payments])
