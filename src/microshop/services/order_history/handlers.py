"""How the read model takes events: {event type: how it changes an order's view}.

A batch is applied at once (`fold_into_views`): the views of its orders are read
in one statement, locked, every fact is folded in by the rules of domain.py in the
order it arrived, and the views are written back in one statement for the new ones
and one for the changed. Events of one order in the same batch therefore see each
other. A missing view is created by whichever event comes first; if two consumers
create it at once, the loser's UniqueViolation fails its batch and the bus
redelivers it.
"""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from microshop.chassis.data import timestamp
from microshop.chassis.inbox import BatchContext, EventContext, EventHandler, order_of
from microshop.contracts import events
from microshop.services.order_history import store
from microshop.services.order_history.domain import (
    OrderView,
    fold_order_outcome,
    fold_order_placed,
    fold_payment,
    fold_shipment,
)

Fold = Callable[[OrderView, Any, datetime], OrderView]

FOLDS: dict[type[events.Event], Fold] = {
    events.OrderCreated: fold_order_placed,
    events.OrderApproved: fold_order_outcome,
    events.OrderRejected: fold_order_outcome,
    events.OrderCancelled: fold_order_outcome,
    events.PaymentSucceeded: fold_payment,
    events.PaymentFailed: fold_payment,
    events.PaymentRefunded: fold_payment,
    events.ShipmentCreated: fold_shipment,
    events.ShipmentCancelled: fold_shipment,
    events.ShipmentAdvanced: fold_shipment,
}


def _order_of(envelope: events.Envelope) -> int:
    order_id = order_of(envelope)
    if order_id is None:  # every event of FOLDS names its order
        raise ValueError(f"a {envelope.type} event without an order id")
    return order_id


async def fold_into_views(batch: BatchContext) -> None:
    tx, facts = batch.tx, batch.events
    found = await store.lock_views(tx, [_order_of(envelope) for envelope, _ in facts])
    views = dict(found)
    for envelope, fact in facts:
        order_id = _order_of(envelope)
        # Aware UTC whatever the producer wrote, so stamps always compare.
        at = timestamp(envelope.occurred_at)
        views[order_id] = FOLDS[type(fact)](views.get(order_id) or OrderView(order_id), fact, at)
    await store.add_views(tx, [view for key, view in views.items() if key not in found])
    # An older fact changes nothing: no write.
    await store.change_views(
        tx, [view for key, view in views.items() if key in found and view != found[key]]
    )


def _alone(fold: Fold) -> EventHandler:
    """The handler of one event (a batch taken event by event): a batch of one."""

    @functools.wraps(fold)  # docs/events.md names a handler by what it wraps
    async def handle(ctx: EventContext, fact: events.Event) -> None:
        await fold_into_views(BatchContext(ctx.tx, [(ctx.envelope, fact)], ctx.app))

    return handle


HANDLERS: dict[type[events.Event], EventHandler] = {
    event_type: _alone(fold) for event_type, fold in FOLDS.items()
}
