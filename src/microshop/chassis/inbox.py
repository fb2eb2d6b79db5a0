"""Idempotent consumers: each handled event id is recorded under a unique key in
the consumer's own database, in the same transaction as the handler's effect, so a
redelivered or duplicated event changes nothing.

A handler takes the open session and the typed event:

    async def send_order_confirmation(ctx: EventContext, event: OrderCreated) -> None:
        ctx.session.add(...)
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Column, DateTime, String, Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.db import Database
from microshop.chassis.outbox import metadata
from microshop.contracts.events import EVENT_TYPES, Envelope, Event

log = structlog.get_logger()

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(60), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False),
)


@dataclass
class EventContext:
    session: AsyncSession
    envelope: Envelope
    app: Any  # the FastAPI app: settings, client, ...


EventHandler = Callable[[EventContext, Any], Awaitable[None]]


class Inbox:
    def __init__(self, consumer: str, db: Database, app: Any) -> None:
        self.consumer, self.db, self.app = consumer, db, app
        self.duplicates = 0

    def handler_for(self, handle: EventHandler) -> Callable[[bytes], Awaitable[None]]:
        async def deliver(body: bytes) -> None:
            envelope = Envelope.model_validate_json(body)
            fact: Event = EVENT_TYPES[envelope.type].model_validate(envelope.data)
            try:
                async with self.db.sessions.begin() as session:
                    await session.execute(
                        insert(inbox).values(
                            consumer=self.consumer,
                            event_id=str(envelope.id),
                            type=envelope.type,
                            handled_at=datetime.now(UTC),
                        )
                    )
                    await handle(EventContext(session, envelope, self.app), fact)
            except IntegrityError as exc:
                if not _is_inbox_duplicate(exc):
                    raise
                self.duplicates += 1
                log.info("duplicate event ignored", event_id=str(envelope.id), type=envelope.type)

        return deliver


def _is_inbox_duplicate(exc: IntegrityError) -> bool:
    # The inbox insert is the first statement: a unique violation there means
    # "already handled". A violation raised by the handler's own writes is a bug.
    statement = str(exc.statement or "").lower()
    return "insert into inbox" in statement
