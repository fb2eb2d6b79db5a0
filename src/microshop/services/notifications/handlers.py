"""Event handlers of the notifications service: {event type: the e-mail it sends}.

Each e-mail is recorded before it is sent (`INSERT ... ON CONFLICT DO NOTHING` on
its key): the unique key says whether the customer was told already (the same
fact under another event id, in this batch or before, or another replica sending
it now, which waits for this one's commit and then skips it). It is sent inside
the transaction: if sending fails, its record is undone and the bus retries; if
the commit fails after sending, the resend has the same key (and the same
Message-ID, which a mail server may drop).

A batch is taken at once (`send_together`): every record in one statement, then
every e-mail sent; an e-mail that cannot be sent takes its record back and fails
alone, the others commit.
"""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from microshop.chassis.data import utc_now
from microshop.chassis.inbox import BatchContext, EventContext, EventHandler
from microshop.contracts.events import (
    Envelope,
    Event,
    OrderApproved,
    OrderCancelled,
    OrderCreated,
    OrderRejected,
)
from microshop.services.notifications import store
from microshop.services.notifications.domain import Email, order_confirmation, order_outcome
from microshop.services.notifications.mailer import Mailer

EMAILS: dict[type[Event], Callable[[Any], Email]] = {
    OrderCreated: order_confirmation,
    OrderApproved: order_outcome,
    OrderRejected: order_outcome,
    OrderCancelled: order_outcome,
}


def _record(email: Email, envelope: Envelope, mailer: Mailer, now: datetime) -> dict[str, Any]:
    return {
        "key": email.key,
        "event_id": str(envelope.id),
        "recipient": email.to,
        "subject": email.subject,
        "body": email.body,
        "transport": mailer.transport,
        "location": mailer.location_of(email),
        "sent_at": now,
    }


def _send_once(write: Callable[[Any], Email]) -> EventHandler:
    """The handler of one event (a batch taken event by event)."""

    @functools.wraps(write)  # docs/events.md names a handler by what it wraps
    async def handle(ctx: EventContext, fact: Event) -> None:
        email = write(fact)
        mailer: Mailer = ctx.app.state.mailer
        now = utc_now()
        if await ctx.tx.insert(store.RECORD_SENT, **_record(email, ctx.envelope, mailer, now)):
            await mailer.send(email, now)

    return handle


async def send_together(batch: BatchContext) -> list[Exception | None]:
    mailer: Mailer = batch.app.state.mailer
    now = utc_now()
    emails = [EMAILS[type(fact)](fact) for _, fact in batch.events]
    # Fails on a key already recorded (a repeat, here or before): then the batch
    # goes again event by event, and nothing has been sent yet.
    await batch.tx.execute_many(
        store.RECORD_NEW,
        [
            _record(email, envelope, mailer, now)
            for email, (envelope, _) in zip(emails, batch.events, strict=True)
        ],
    )
    errors: list[Exception | None] = []
    for email in emails:
        try:
            await mailer.send(email, now)
            errors.append(None)
        except Exception as exc:  # whatever the transport raised: this one is retried
            await batch.tx.execute(store.FORGET_SENT, key=email.key)
            errors.append(exc)
    return errors


HANDLERS: dict[type[Event], EventHandler] = {
    event_type: _send_once(write) for event_type, write in EMAILS.items()
}
