"""Idempotent consumers: each handled event id is recorded under a unique key in
the consumer's own database, in the same transaction as the handler's effect, so a
redelivered or duplicated event changes nothing.

What the broker has ready is applied in one transaction (the inbox insert is
`ON CONFLICT DO NOTHING`: a duplicate is skipped, not an error). Each event of a
batch runs in its own savepoint: one that fails is undone alone (the bus retries
it), and the others commit and are acked.

A consumer may also give `apply_together`, which applies a whole batch in one
call (one read and one write for all its rows, not one each). Its batches skip the
savepoints, two round trips per event on a database server, and record their event
ids in one pipelined statement that fails on a duplicate. `apply_together` returns,
for each event, the error of one it could not apply, having left none of its
effects in the transaction (that event's inbox row goes too, and the bus retries
it); anything it raises rolls the whole batch back, which is then applied again
event by event in savepoints. So whatever it does outside the database (an e-mail
sent) must come after everything that can fail for the batch as a whole: then a
rollback repeats nothing that anyone saw.

Each event handled is a consumer span, child of the span that recorded the event
(the envelope's `trace`), one JSON line in the request log, and a sample of the
consumer's lag (chassis/metrics.py).

A handler takes the open transaction and the typed event:

    async def send_order_confirmation(ctx: EventContext, event: OrderCreated) -> None:
        await ctx.tx.execute(...)
"""

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import bindparam, delete

from microshop.chassis import metrics, tracing
from microshop.chassis.bus import Delivery, Outcome
from microshop.chassis.bus import error_text as bus_error
from microshop.chassis.data import Database, Query, Transaction, insert_into, utc_now
from microshop.chassis.event_tables import inbox
from microshop.chassis.telemetry import Telemetry
from microshop.contracts.events import Envelope, Event

log = structlog.get_logger()

RECORD_COLUMNS = ["consumer", "event_id", "type", "handled_at"]
RECORD = insert_into(inbox, RECORD_COLUMNS, on_duplicate="skip")
# The ids of a batch taken together (`apply_together`): a duplicate among them fails
# the batch, which is then applied event by event through RECORD (redeliveries
# are rare). FORGET drops the id of an event the batch could not apply.
RECORD_NEW = insert_into(inbox, RECORD_COLUMNS)
FORGET = Query(
    delete(inbox).where(
        inbox.c.consumer == bindparam("consumer"), inbox.c.event_id == bindparam("event_id")
    )
)


@dataclass
class EventContext:
    tx: Transaction
    envelope: Envelope
    app: Any  # the FastAPI app: settings, client, ...


EventHandler = Callable[[EventContext, Any], Awaitable[None]]


@dataclass
class BatchContext:
    tx: Transaction
    events: list[tuple[Envelope, Any]]  # (envelope, typed event), in arrival order
    app: Any


# A whole batch at once; returns None, or per event its error or None (see above).
BatchHandler = Callable[[BatchContext], Awaitable[list[Exception | None] | None]]


class UndecodableEvent(ValueError):
    """The body is not an event this consumer can read: it counts as a failed attempt."""


@dataclass(slots=True)
class Decoded:
    envelope: Envelope
    fact: Event
    handle: EventHandler
    span: tracing.Span | None = None
    duplicate: bool = False
    began: float = field(default_factory=time.perf_counter)


def order_of(envelope: Envelope) -> int | None:
    """The order an event is about, if any (its `order_id`, or an order event's `id`)."""
    found = envelope.data.get("order_id")
    if found is None and envelope.type.startswith("order."):
        found = envelope.data.get("id")
    return found if isinstance(found, int) else None


class Inbox:
    def __init__(
        self,
        consumer: str,
        db: Database,
        app: Any,
        handlers: Mapping[type[Event], EventHandler],
        telemetry: Telemetry | None = None,
        *,
        apply_together: BatchHandler | None = None,
    ) -> None:
        self.consumer, self.db, self.app = consumer, db, app
        self.apply_together = apply_together
        self.telemetry = telemetry or Telemetry()
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
        together = self.apply_together is not None and len(ready) > 1
        try:
            try:
                duplicates = await self._commit(ready, outcomes, together)
            except Exception:
                if not together:
                    raise
                # One event failed and the rollback took its neighbours' effects
                # with it (effects in the database only): each again, alone.
                duplicates = await self._commit(ready, outcomes, together=False)
        except Exception as exc:
            for position, _ in ready:
                outcomes[position] = outcomes[position] or exc
        else:
            self.duplicates += duplicates
        for position, decoded in ready:
            self._observed(decoded, outcomes[position])
        return outcomes

    def _observed(self, decoded: Decoded, error: Outcome) -> None:
        envelope, span = decoded.envelope, decoded.span
        outcome = "failed" if error is not None else "duplicate" if decoded.duplicate else "handled"
        lag = None
        if outcome == "handled":
            lag = time.time() - envelope.occurred_at.timestamp()
        metrics.observe_event(envelope.type, outcome, lag)
        if span is None:
            return
        if error is not None:
            span.fail(bus_error(error))
        self.telemetry.tracer.finish(span)
        record: dict[str, Any] = {
            "kind": "event",
            "service": span.service,
            "instance": self.telemetry.instance,
            "type": envelope.type,
            "event_id": str(envelope.id),
            "source": envelope.source,
            "outcome": outcome,
            "ms": round((time.perf_counter() - decoded.began) * 1000, 2),
            "trace_id": span.trace_id,
            "span_id": span.span_id,
        }
        if (order_id := order_of(envelope)) is not None:
            record["order_id"] = order_id
        if error is not None:
            record["error"] = bus_error(error)
        self.telemetry.request_log.write(record)

    async def _commit(
        self, ready: list[tuple[int, Decoded]], outcomes: list[Outcome], together: bool
    ) -> int:
        """Applies the batch in one transaction; returns how many were duplicates."""
        async with self.db.transaction() as tx:
            if together:
                await self._apply_together(tx, ready, outcomes)
                return 0
            if len(ready) == 1:
                return await self._apply(tx, ready[0][1])
            return await self._apply_each(tx, ready, outcomes)

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

    async def _apply_together(
        self, tx: Transaction, ready: list[tuple[int, Decoded]], outcomes: list[Outcome]
    ) -> None:
        """Records every id of the batch in one statement, then applies the batch;
        a duplicate fails it all (the caller applies it again, event by event)."""
        assert self.apply_together is not None
        batch = [decoded for _, decoded in ready]
        handled_at = utc_now()
        for decoded in batch:
            self._start_span(decoded)  # each event's span spans the batch's work
        await tx.execute_many(
            RECORD_NEW,
            [
                {
                    "consumer": self.consumer,
                    "event_id": str(decoded.envelope.id),
                    "type": decoded.envelope.type,
                    "handled_at": handled_at,
                }
                for decoded in batch
            ],
        )
        events = [(decoded.envelope, decoded.fact) for decoded in batch]
        errors = await self.apply_together(BatchContext(tx, events, self.app))
        if errors is None:
            return
        failed = [
            (position, decoded, error)
            for (position, decoded), error in zip(ready, errors, strict=True)
            if error is not None
        ]
        for _, decoded, _ in failed:
            await tx.execute(FORGET, consumer=self.consumer, event_id=str(decoded.envelope.id))
        # Only now, so that a rollback above leaves no stale outcome behind.
        for position, _, error in failed:
            outcomes[position] = error

    def _start_span(self, decoded: Decoded) -> tracing.Span:
        envelope = decoded.envelope
        span = decoded.span = self.telemetry.tracer.start(
            f"handle {envelope.type}",
            tracing.CONSUMER,
            tracing.parse_traceparent(envelope.trace),
            inherit=False,
        )
        span.attributes["messaging.consumer"] = self.consumer
        span.attributes["messaging.message.id"] = str(envelope.id)
        if (order_id := order_of(envelope)) is not None:
            span.attributes["order.id"] = order_id
        return span

    async def _apply(self, tx: Transaction, decoded: Decoded) -> int:
        """Applies one event; returns 1 if it was a duplicate (already handled)."""
        envelope = decoded.envelope
        token = tracing.enter(self._start_span(decoded))
        try:
            first_time = await tx.insert(
                RECORD,
                consumer=self.consumer,
                event_id=str(envelope.id),
                type=envelope.type,
                handled_at=utc_now(),
            )
            if first_time is None:
                log.info("duplicate event ignored", event_id=str(envelope.id), type=envelope.type)
                decoded.duplicate = True
                return 1
            await decoded.handle(EventContext(tx, envelope, self.app), decoded.fact)
            return 0
        finally:
            tracing.leave(token)
