"""Wires a service to the bus: its event handlers behind an inbox, its outbox
behind a relay. The broker may be away at start; the service starts anyway and
connects when it can, so a stopped broker never stops orders from being taken."""

import asyncio
import contextlib
from collections.abc import Mapping

import structlog

from microshop.chassis.backoff import backoff
from microshop.chassis.bus import Bus, connect_bus
from microshop.chassis.data import Database
from microshop.chassis.inbox import BatchHandler, EventHandler, Inbox
from microshop.chassis.outbox import OutboxRelay
from microshop.chassis.tasks import stop_tasks
from microshop.chassis.telemetry import Telemetry
from microshop.contracts.events import Event

log = structlog.get_logger()


class EventWiring:
    def __init__(
        self,
        service: str,
        db: Database,
        broker_url: str,
        prefix: str,
        handlers: Mapping[type[Event], EventHandler],
        app: object,
        replicas: int = 1,
        telemetry: Telemetry | None = None,
        apply_together: BatchHandler | None = None,
    ) -> None:
        self.bus: Bus = connect_bus(broker_url, prefix, replicas=replicas)
        self.inbox = Inbox(service, db, app, handlers, telemetry, apply_together=apply_together)
        if handlers:
            self.bus.consume(service, self.inbox.event_types, self.inbox.handle_batch)
        self.relay = OutboxRelay(db, self.bus)
        db.outbox_written = self.relay.wake
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        return self.bus.connected

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._connect(), name="bus-connect"),
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
        ]

    async def _connect(self) -> None:
        attempt = 0
        while True:
            try:
                await self.bus.start()
                log.info("connected to the broker")
                return
            except Exception as exc:
                attempt += 1
                delay = backoff(attempt, base=0.25, cap=10.0)
                log.warning("broker unavailable, retrying", error=repr(exc), in_s=delay)
                with contextlib.suppress(Exception):
                    await self.bus.close()
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        self.relay.stop()
        await stop_tasks(self._tasks)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.bus.close(), timeout=5)
