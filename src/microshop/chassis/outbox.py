"""Transactional outbox: an event is written to the service's own database in the
same transaction as the state change, and a relay in the same process publishes
it afterwards with broker confirmation. A crash between the two loses nothing:
the relay finds the row unsent and publishes it again (the broker's dedupe window
and the consumers' inbox absorb the repeat).

    async with db.transaction() as tx:
        await tx.insert(NEW_ORDER, ...)
        await record_event(tx, OrderCreated(...))
"""

import asyncio
import contextlib
import time
from datetime import timedelta
from functools import lru_cache

import structlog
from prometheus_client import Gauge
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.sql.expression import BindParameter

from microshop.chassis import faults
from microshop.chassis.backoff import backoff
from microshop.chassis.bus import Bus, Outgoing
from microshop.chassis.data import Database, Query, Transaction, insert_into, timestamp, utc_now
from microshop.chassis.event_tables import outbox
from microshop.chassis.tracing import current_traceparent
from microshop.contracts.events import Envelope, Event

log = structlog.get_logger()

BACKLOG = Gauge("microshop_outbox_backlog", "Events written but not yet published")
OLDEST_AGE = Gauge("microshop_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent event")

KEEP_PUBLISHED = timedelta(days=1)
BATCH = 256
MEASURE_EVERY_S = 1.0
# After a wake-up the relay waits this long before reading, so that the commits of
# a busy moment leave as one batch (one read, one concurrent publish, one mark)
# instead of one event at a time; an event waits at most this much longer.
LINGER_S = 0.1
PRUNE_EVERY_S = 60.0

RECORD = insert_into(outbox, ["event_id", "type", "aggregate", "body", "created_at"])
PENDING = Query(
    select(outbox.c.seq, outbox.c.event_id, outbox.c.type, outbox.c.body)
    .where(outbox.c.published_at.is_(None))
    .order_by(outbox.c.seq)
    .limit(bindparam("limit"))
)
UNSENT = Query(
    select(func.count().label("count"), func.min(outbox.c.created_at).label("oldest")).where(
        outbox.c.published_at.is_(None)
    )
)
PRUNE = Query(delete(outbox).where(outbox.c.published_at < bindparam("before")))


@lru_cache(maxsize=BATCH)
def _mark_sent(count: int) -> Query:
    """UPDATE ... WHERE seq IN (:s0, ..., :sN): one statement per batch, compiled once per size."""
    seqs: list[BindParameter[int]] = [bindparam(f"s{i}") for i in range(count)]
    return Query(update(outbox).where(outbox.c.seq.in_(seqs)).values(published_at=bindparam("at")))


async def record_event(tx: Transaction, fact: Event, trace: str | None = None) -> Envelope:
    """Adds `fact` to the outbox inside the transaction; the relay wakes on commit.
    The envelope carries `trace`, by default the context of the span active now, so
    the consumers' work joins the trace of the request that caused the event."""
    envelope = fact.envelope(trace or current_traceparent())
    await tx.execute(
        RECORD,
        event_id=str(envelope.id),
        type=envelope.type,
        aggregate=f"{fact.PRODUCER}:{fact.key()}",
        body=envelope.model_dump_json().encode(),
        created_at=envelope.occurred_at,
    )
    if (wake := tx.db.outbox_written) is not None:
        tx.after_commit(wake)
    return envelope


class OutboxRelay:
    def __init__(self, db: Database, bus: Bus, batch: int = BATCH, idle_poll: float = 1.0) -> None:
        self.db, self.bus, self.batch, self.idle_poll = db, bus, batch, idle_poll
        self._wake = asyncio.Event()
        self._stopping = False
        self._measured_at = 0.0
        self._pruned_at = 0.0
        # As last measured (the ops console shows them).
        self.backlog = 0
        self.oldest_age_s = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping:
            # Cleared before reading, never after: an event committed while we
            # publish sets it again, so it is picked up at once, not at the next poll.
            self._wake.clear()
            try:
                found = await self.publish_pending()
                failures = 0
            except Exception as exc:
                failures += 1
                delay = backoff(failures, base=0.5, cap=10.0)
                log.warning(
                    "outbox relay: broker unavailable, retrying", error=repr(exc), in_s=delay
                )
                # An outage is when the backlog gauge matters most: keep it current.
                with contextlib.suppress(Exception):
                    await self._measure_and_prune()
                await asyncio.sleep(delay)
                continue
            if time.monotonic() - self._measured_at > MEASURE_EVERY_S:
                await self._measure_and_prune()
            if found < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.idle_poll)
                    await asyncio.sleep(LINGER_S)

    async def publish_pending(self) -> int:
        """Publishes one batch of unsent events (concurrently, acks awaited together)
        and marks the confirmed ones sent in one statement; raises if any failed, so
        the relay backs off and tries those again."""
        rows = await self.db.fetch_all(PENDING, limit=self.batch)
        if not rows:
            return 0
        confirmed = await self.bus.publish(
            [Outgoing(bytes(row["body"]), row["type"], row["event_id"]) for row in rows]
        )
        done = [row["seq"] for row, ok in zip(rows, confirmed, strict=True) if ok]
        if done:
            faults.crash_point("outbox.published")
            async with self.db.transaction() as tx:
                await tx.execute(
                    _mark_sent(len(done)), at=utc_now(), **{f"s{i}": s for i, s in enumerate(done)}
                )
        if len(done) < len(rows):
            raise ConnectionError(f"the broker confirmed {len(done)} of {len(rows)} events")
        return len(rows)

    async def _measure_and_prune(self) -> None:
        self._measured_at = time.monotonic()
        row = await self.db.fetch_one(UNSENT)
        count, oldest = (row["count"], row["oldest"]) if row else (0, None)
        age = (utc_now() - timestamp(oldest)).total_seconds() if oldest is not None else 0
        self.backlog, self.oldest_age_s = count or 0, age
        BACKLOG.set(self.backlog)
        OLDEST_AGE.set(age)
        if self._measured_at - self._pruned_at > PRUNE_EVERY_S:
            self._pruned_at = self._measured_at
            async with self.db.transaction() as tx:
                await tx.execute(PRUNE, before=utc_now() - KEEP_PUBLISHED)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
