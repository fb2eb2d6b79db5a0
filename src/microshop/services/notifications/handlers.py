"""Event handlers of the notifications service: {event type: reaction}."""

from datetime import UTC, datetime

from sqlalchemy import select

from microshop.chassis.inbox import EventContext, EventHandler
from microshop.contracts.events import (
    Event,
    OrderApproved,
    OrderCancelled,
    OrderCreated,
    OrderRejected,
)
from microshop.services.notifications.domain import Email, order_confirmation, order_outcome
from microshop.services.notifications.models import SentMessageRow


async def send_order_confirmation(ctx: EventContext, order: OrderCreated) -> None:
    await _send_once(ctx, order_confirmation(order))


async def send_order_outcome(
    ctx: EventContext, order: OrderApproved | OrderRejected | OrderCancelled
) -> None:
    await _send_once(ctx, order_outcome(order))


async def _send_once(ctx: EventContext, email: Email) -> None:
    if await ctx.session.scalar(select(SentMessageRow.id).where(SentMessageRow.key == email.key)):
        return  # the same fact arrived under another event id: already told the customer
    mailer = ctx.app.state.mailer
    now = datetime.now(UTC)
    # Send inside the transaction: if sending fails, nothing is recorded and the
    # bus retries; if the commit fails after sending, the resend has the same key.
    location = await mailer.send(email, now)
    ctx.session.add(
        SentMessageRow(
            key=email.key,
            event_id=str(ctx.envelope.id),
            recipient=email.to,
            subject=email.subject,
            body=email.body,
            transport=mailer.transport,
            location=location,
            sent_at=now,
        )
    )


HANDLERS: dict[type[Event], EventHandler] = {
    OrderCreated: send_order_confirmation,
    OrderApproved: send_order_outcome,
    OrderRejected: send_order_outcome,
    OrderCancelled: send_order_outcome,
}
