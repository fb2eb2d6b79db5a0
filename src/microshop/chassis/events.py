"""Wires a service to the bus: its event handlers behind an inbox, its outbox
behind a relay. The broker may be away at start; the service starts anyway and
connects when it can, so a stopped broker never stops orders from being taken."""

import asyncio
import contextlib
from collections.abc import Mapping

import structlog

from microshop.chassis.bus import Bus, connect_bus
from microshop.chassis.db import Database
from microshop.chassis.inbox import EventHandler, Inbox
from microshop.chassis.outbox import OutboxRelay
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
        crash_after_publish: bool = False,
    ) -> None:
        self.bus: Bus = connect_bus(broker_url, prefix)
        self.inbox = Inbox(service, db, app)
        for event_type, handle in handlers.items():
            self.bus.subscribe(service, event_type.TYPE, self.inbox.handler_for(handle))
        self.relay = OutboxRelay(db, self.bus, crash_after_publish=crash_after_publish)
        db.attach(outbox_relay=self.relay)
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = False

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._connect(), name="bus-connect"),
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
        ]

    async def _connect(self) -> None:
        delay = 0.25
        while True:
            try:
                await self.bus.start()
                self.connected = True
                log.info("connected to the broker")
                return
            except Exception as exc:
                log.warning("broker unavailable, retrying", error=repr(exc), in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def stop(self) -> None:
        self.relay.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.bus.close(), timeout=5)
