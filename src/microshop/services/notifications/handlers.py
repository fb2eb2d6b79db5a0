"""Event handlers of the notifications service: {event type: reaction}."""

from microshop.chassis.data import utc_now
from microshop.chassis.inbox import EventContext, EventHandler
from microshop.contracts.events import (
    Event,
    OrderApproved,
    OrderCancelled,
    OrderCreated,
    OrderRejected,
)
from microshop.services.notifications import store
from microshop.services.notifications.domain import Email, order_confirmation, order_outcome


async def send_order_confirmation(ctx: EventContext, order: OrderCreated) -> None:
    await _send_once(ctx, order_confirmation(order))


async def send_order_outcome(
    ctx: EventContext, order: OrderApproved | OrderRejected | OrderCancelled
) -> None:
    await _send_once(ctx, order_outcome(order))


async def _send_once(ctx: EventContext, email: Email) -> None:
    mailer = ctx.app.state.mailer
    now = utc_now()
    # Recorded first: the unique key says whether the customer was told already (the
    # same fact under another event id, in this batch or before, or another replica
    # sending it now, which waits for this one's commit and then skips it).
    recorded = await ctx.tx.insert(
        store.RECORD_SENT,
        key=email.key,
        event_id=str(ctx.envelope.id),
        recipient=email.to,
        subject=email.subject,
        body=email.body,
        transport=mailer.transport,
        location=mailer.location_of(email),
        sent_at=now,
    )
    if recorded is None:
        return
    # Sent inside the transaction: if sending fails, the record is undone with it and
    # the bus retries; if the commit fails after sending, the resend has the same key
    # (and the same Message-ID, which a mail server may drop).
    await mailer.send(email, now)


HANDLERS: dict[type[Event], EventHandler] = {
    OrderCreated: send_order_confirmation,
    OrderApproved: send_order_outcome,
    OrderRejected: send_order_outcome,
    OrderCancelled: send_order_outcome,
}
