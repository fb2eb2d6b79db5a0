"""Event handlers of the read model: {event type: how it changes the view}."""

import json
from datetime import datetime

from microshop.chassis.inbox import EventContext, EventHandler
from microshop.contracts.events import (
    Event,
    OrderApproved,
    OrderCancelled,
    OrderCreated,
    OrderRejected,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
    ShipmentAdvanced,
    ShipmentCancelled,
    ShipmentCreated,
)
from microshop.services.order_history.domain import Stamped, newer_status
from microshop.services.order_history.models import OrderViewRow


async def _view(ctx: EventContext, order_id: int) -> OrderViewRow:
    # A missing view is created by whichever event comes first; if two consumers
    # create it at once, the loser's unique violation makes the bus redeliver.
    view = await ctx.session.get(OrderViewRow, order_id, with_for_update=True)
    if view is None:
        view = OrderViewRow(order_id=order_id, items="[]")
        ctx.session.add(view)
    view.updated_at = ctx.envelope.occurred_at
    return view


def _set_status(view: OrderViewRow, status: str, at: datetime, reason: str | None) -> None:
    current = Stamped(view.status, view.status_at)
    if newer_status(current, status, at):
        view.status, view.status_at, view.reason = current.value, current.at, reason


async def record_order_placed(ctx: EventContext, order: OrderCreated) -> None:
    view = await _view(ctx, order.id)
    view.user_id, view.user_name, view.user_email = order.user_id, order.user_name, order.user_email
    view.total, view.placed_at = order.total, order.created_at
    view.items = json.dumps([item.model_dump(mode="json") for item in order.items])
    _set_status(view, order.status, ctx.envelope.occurred_at, None)


async def record_order_outcome(
    ctx: EventContext, order: OrderApproved | OrderRejected | OrderCancelled
) -> None:
    view = await _view(ctx, order.id)
    view.user_id, view.user_name, view.user_email = order.user_id, order.user_name, order.user_email
    view.total = order.total
    _set_status(view, order.status, ctx.envelope.occurred_at, order.reason)


async def record_payment(
    ctx: EventContext, payment: PaymentSucceeded | PaymentFailed | PaymentRefunded
) -> None:
    view = await _view(ctx, payment.order_id)
    stamp = Stamped(view.payment_status, view.payment_at)
    if stamp.apply(payment.status, ctx.envelope.occurred_at):
        view.payment_status, view.payment_at = stamp.value, stamp.at


async def record_shipment(
    ctx: EventContext, shipment: ShipmentCreated | ShipmentCancelled | ShipmentAdvanced
) -> None:
    view = await _view(ctx, shipment.order_id)
    stamp = Stamped(view.shipment_status, view.shipment_at)
    if stamp.apply(shipment.status, ctx.envelope.occurred_at):
        view.shipment_status, view.shipment_at = stamp.value, stamp.at
        view.tracking_number = shipment.tracking_number


HANDLERS: dict[type[Event], EventHandler] = {
    OrderCreated: record_order_placed,
    OrderApproved: record_order_outcome,
    OrderRejected: record_order_outcome,
    OrderCancelled: record_order_outcome,
    PaymentSucceeded: record_payment,
    PaymentFailed: record_payment,
    PaymentRefunded: record_payment,
    ShipmentCreated: record_shipment,
    ShipmentCancelled: record_shipment,
    ShipmentAdvanced: record_shipment,
}
