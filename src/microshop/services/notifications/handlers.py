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
    # Read in the batch's transaction, so the same fact twice in one batch is seen too.
    if await ctx.tx.fetch_one(store.SENT_WITH_KEY, key=email.key) is not None:
        return  # the same fact arrived under another event id: already told the customer
    mailer = ctx.app.state.mailer
    now = utc_now()
    # Send inside the transaction: if sending fails, nothing is recorded and the
    # bus retries; if the commit fails after sending, the resend has the same key
    # (and the same Message-ID, which a mail server may drop).
    location = await mailer.send(email, now)
    await ctx.tx.insert(
        store.RECORD_SENT,
        key=email.key,
        event_id=str(ctx.envelope.id),
        recipient=email.to,
        subject=email.subject,
        body=email.body,
        transport=mailer.transport,
        location=location,
        sent_at=now,
    )


HANDLERS: dict[type[Event], EventHandler] = {
    OrderCreated: send_order_confirmation,
    OrderApproved: send_order_outcome,
    OrderRejected: send_order_outcome,
    OrderCancelled: send_order_outcome,
}
