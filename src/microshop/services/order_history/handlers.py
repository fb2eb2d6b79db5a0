"""Event handlers of the read model: {event type: how it changes the view}.

Each reads the order's view in the batch's transaction (locked), folds the fact
in by the rules of domain.py, and writes the view back. Events of one order in the
same batch therefore see each other's writes. A missing view is created by
whichever event comes first; if two consumers create it at once, the loser's
UniqueViolation fails its batch and the bus redelivers it.
"""

from collections.abc import Callable
from datetime import datetime

from microshop.chassis.data import timestamp
from microshop.chassis.inbox import EventContext, EventHandler
from microshop.contracts import events
from microshop.services.order_history import store
from microshop.services.order_history.domain import (
    OrderOutcome,
    OrderView,
    PaymentFact,
    ShipmentFact,
    fold_order_outcome,
    fold_order_placed,
    fold_payment,
    fold_shipment,
)

Fold = Callable[[OrderView, datetime], OrderView]


async def record_order_placed(ctx: EventContext, order: events.OrderCreated) -> None:
    await _fold_into_view(ctx, order.id, lambda view, at: fold_order_placed(view, order, at))


async def record_order_outcome(ctx: EventContext, order: OrderOutcome) -> None:
    await _fold_into_view(ctx, order.id, lambda view, at: fold_order_outcome(view, order, at))


async def record_payment(ctx: EventContext, payment: PaymentFact) -> None:
    await _fold_into_view(ctx, payment.order_id, lambda view, at: fold_payment(view, payment, at))


async def record_shipment(ctx: EventContext, shipment: ShipmentFact) -> None:
    await _fold_into_view(
        ctx, shipment.order_id, lambda view, at: fold_shipment(view, shipment, at)
    )


async def _fold_into_view(ctx: EventContext, order_id: int, fold: Fold) -> None:
    # Aware UTC whatever the producer wrote, so stamps always compare.
    at = timestamp(ctx.envelope.occurred_at)
    found = await store.lock_view(ctx.tx, order_id)
    view = fold(found or OrderView(order_id), at)
    if found is None:
        await store.add_view(ctx.tx, view)
    elif view != found:  # an older fact changes nothing: no write
        await store.change_view(ctx.tx, view)


HANDLERS: dict[type[events.Event], EventHandler] = {
    events.OrderCreated: record_order_placed,
    events.OrderApproved: record_order_outcome,
    events.OrderRejected: record_order_outcome,
    events.OrderCancelled: record_order_outcome,
    events.PaymentSucceeded: record_payment,
    events.PaymentFailed: record_payment,
    events.PaymentRefunded: record_payment,
    events.ShipmentCreated: record_shipment,
    events.ShipmentCancelled: record_shipment,
    events.ShipmentAdvanced: record_shipment,
}
