"""Idempotent consumers: each handled event id is recorded under a unique key in
the consumer's own database, in the same transaction as the handler's effect, so a
redelivered or duplicated event changes nothing.

What the broker has ready is applied in one transaction (the inbox insert is
`ON CONFLICT DO NOTHING`: a duplicate is skipped, not an error). Each event of a
batch runs in its own savepoint: one that fails is undone alone (the bus retries
it), and the others commit and are acked.

A handler takes the open transaction and the typed event:

    async def send_order_confirmation(ctx: EventContext, event: OrderCreated) -> None:
        await ctx.tx.execute(...)
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from microshop.chassis.bus import Delivery, Outcome
from microshop.chassis.data import Database, Transaction, insert_into, utc_now
from microshop.chassis.event_tables import inbox
from microshop.contracts.events import Envelope, Event

log = structlog.get_logger()

RECORD = insert_into(inbox, ["consumer", "event_id", "type", "handled_at"], on_duplicate="skip")


@dataclass
class EventContext:
    tx: Transaction
    envelope: Envelope
    app: Any  # the FastAPI app: settings, client, ...


EventHandler = Callable[[EventContext, Any], Awaitable[None]]


class UndecodableEvent(ValueError):
    """The body is not an event this consumer can read: it counts as a failed attempt."""


@dataclass(frozen=True, slots=True)
class Decoded:
    envelope: Envelope
    fact: Event
    handle: EventHandler


class Inbox:
    def __init__(
        self,
        consumer: str,
        db: Database,
        app: Any,
        handlers: Mapping[type[Event], EventHandler],
    ) -> None:
        self.consumer, self.db, self.app = consumer, db, app
        self.handlers = {event_type.TYPE: (event_type, h) for event_type, h in handlers.items()}
        self.duplicates = 0

    @property
    def event_types(self) -> list[str]:
        return list(self.handlers)

    def decode(self, delivery: Delivery) -> Decoded:
        try:
            envelope = Envelope.model_validate_json(delivery.body)
            event_type, handle = self.handlers[envelope.type]
            fact = event_type.model_validate(envelope.data)
        except KeyError:
            raise UndecodableEvent(f"{self.consumer} handles no {delivery.type!r} events") from None
        except ValueError as exc:
            raise UndecodableEvent(f"not a valid {delivery.type!r} event: {exc}") from None
        return Decoded(envelope, fact, handle)

    async def handle_batch(self, deliveries: list[Delivery]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        ready: list[tuple[int, Decoded]] = []
        for position, delivery in enumerate(deliveries):
            try:
                ready.append((position, self.decode(delivery)))
                outcomes.append(None)
            except UndecodableEvent as exc:
                outcomes.append(exc)
        if not ready:
            return outcomes
        duplicates = 0
        try:
            async with self.db.transaction() as tx:
                if len(ready) == 1:
                    duplicates += await self._apply(tx, ready[0][1])
                else:
                    duplicates += await self._apply_each(tx, ready, outcomes)
        except Exception as exc:
            for position, _ in ready:
                outcomes[position] = outcomes[position] or exc
            return outcomes
        self.duplicates += duplicates
        return outcomes

    async def _apply_each(
        self, tx: Transaction, ready: list[tuple[int, Decoded]], outcomes: list[Outcome]
    ) -> int:
        """Each event in a savepoint of its own: one that fails is undone alone (and
        retried), the others commit, and no handler's effect (an e-mail sent) is
        repeated because a neighbour failed."""
        duplicates = 0
        for position, decoded in ready:
            try:
                async with tx.savepoint():
                    duplicates += await self._apply(tx, decoded)
            except Exception as exc:
                outcomes[position] = exc
        return duplicates

    async def _apply(self, tx: Transaction, decoded: Decoded) -> int:
        """Applies one event; returns 1 if it was a duplicate (already handled)."""
        envelope = decoded.envelope
        first_time = await tx.insert(
            RECORD,
            consumer=self.consumer,
            event_id=str(envelope.id),
            type=envelope.type,
            handled_at=utc_now(),
        )
        if first_time is None:
            log.info("duplicate event ignored", event_id=str(envelope.id), type=envelope.type)
            return 1
        await decoded.handle(EventContext(tx, envelope, self.app), decoded.fact)
        return 0
