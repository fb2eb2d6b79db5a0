"""Transactional outbox: an event is written to the service's own database in the
same transaction as the state change, and a relay in the same process publishes
it afterwards with broker confirmation. A crash between the two loses nothing:
the relay finds the row unsent and publishes it again (the broker's dedupe window
and the consumers' inbox absorb the repeat).

    async with db.sessions.begin() as session:
        session.add(order)
        await record_event(session, OrderCreated(...))
"""

import asyncio
import contextlib
import os
import signal
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import Gauge
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.bus import Bus
from microshop.chassis.db import Database
from microshop.contracts.events import Envelope, Event

log = structlog.get_logger()

metadata = MetaData()

outbox = Table(
    "outbox",
    metadata,
    # seq orders publication: events leave in the order their transactions wrote them.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("aggregate", String(100), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True, index=True),
)

BACKLOG = Gauge("microshop_outbox_backlog", "Events written but not yet published")
OLDEST_AGE = Gauge("microshop_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent event")

KEEP_PUBLISHED = timedelta(days=1)


async def record_event(session: AsyncSession, fact: Event, trace: str | None = None) -> Envelope:
    """Adds `fact` to the outbox inside the session's current transaction."""
    envelope = fact.envelope(trace)
    await session.execute(
        insert(outbox).values(
            event_id=str(envelope.id),
            type=envelope.type,
            aggregate=f"{fact.PRODUCER}:{fact.key()}",
            body=envelope.model_dump_json().encode(),
            created_at=envelope.occurred_at,
        )
    )
    relay = session.info.get("outbox_relay")
    if isinstance(relay, OutboxRelay):
        # Wake the relay when the transaction commits, not before: it would find nothing.
        event.listen(session.sync_session, "after_commit", lambda _: relay.wake(), once=True)
    return envelope


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        batch: int = 200,
        idle_poll: float = 1.0,
        crash_after_publish: bool = False,
    ) -> None:
        self.db, self.bus, self.batch, self.idle_poll = db, bus, batch, idle_poll
        # Fault injection for the tests: die between publishing and marking sent.
        self.crash_after_publish = crash_after_publish
        self._wake = asyncio.Event()
        self._stopping = False
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                sent = await self.publish_pending()
                failures = 0
            except Exception as exc:
                failures += 1
                delay = min(0.25 * 2**failures, 10.0)
                log.warning(
                    "outbox relay: broker unavailable, retrying", error=repr(exc), in_s=delay
                )
                # An outage is when the backlog gauge matters most: keep it current.
                with contextlib.suppress(Exception):
                    await self._measure_and_prune()
                await asyncio.sleep(delay)
                continue
            if sent < self.batch:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.idle_poll)
                except TimeoutError:
                    await self._measure_and_prune()

    async def publish_pending(self) -> int:
        """Publishes unsent events in order; stops at the first failure so a later
        event never overtakes an earlier one of the same aggregate."""
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(outbox.c.seq, outbox.c.event_id, outbox.c.type, outbox.c.body)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self.batch)
                )
            ).all()
        done: list[int] = []
        try:
            for row in rows:
                await self.bus.publish(row.body, row.type, row.event_id)
                done.append(row.seq)
        finally:
            if done and self.crash_after_publish:
                log.warning("crash point reached: killing this process after publishing")
                os.kill(os.getpid(), signal.SIGKILL)
            if done:
                await self._mark_published(done)
        return len(rows)

    async def _mark_published(self, seqs: list[int]) -> None:
        async with self.db.sessions.begin() as session:
            await session.execute(
                update(outbox).where(outbox.c.seq.in_(seqs)).values(published_at=datetime.now(UTC))
            )
        self.published += len(seqs)

    async def _measure_and_prune(self) -> None:
        async with self.db.sessions.begin() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(
                        outbox.c.published_at.is_(None)
                    )
                )
            ).one()
            await session.execute(
                delete(outbox).where(outbox.c.published_at < datetime.now(UTC) - KEEP_PUBLISHED)
            )
        BACKLOG.set(count)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)  # SQLite returns naive datetimes
        OLDEST_AGE.set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
