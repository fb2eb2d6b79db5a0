"""Keeps one instance in the registry for as long as it runs.

    beat = Heartbeat(registry, me, served=lambda: metrics.requests_served)
    await beat.start()          # returns at once; registering happens in the task
    ...
    await beat.stop()           # clean stop: deregisters, so callers drop it at once

or `async with Heartbeat(registry, me): ...`.

The task registers, then heartbeats every `every` seconds with the current
`served`. When the backend is away it keeps trying with backoff, and registers
again (not just heartbeats) once it answers, because the backend may have come
back without the instance (a new NATS store, a restarted Consul agent) or have
dropped it when its TTL ran out.
"""

import asyncio
from collections.abc import Callable

import structlog

from microshop.chassis.backoff import backoff
from microshop.chassis.registry.model import HEARTBEAT_S, Instance, NotRegistered, Registry
from microshop.chassis.tasks import stop_tasks

log = structlog.get_logger()

# A clean stop should not hang on a registry that is gone: it then drops the
# instance within its TTL anyway.
DEREGISTER_TIMEOUT_S = 2.0


class Heartbeat:
    def __init__(
        self,
        registry: Registry,
        instance: Instance,
        *,
        every: float = HEARTBEAT_S,
        served: Callable[[], int] | None = None,
    ) -> None:
        self.registry, self.instance, self.every = registry, instance, every
        self._served = served or (lambda: 0)
        self._task: asyncio.Task[None] | None = None
        # Set while the instance is known to be in the registry (last call succeeded).
        self.registered = asyncio.Event()

    def current(self) -> Instance:
        return self.instance.with_served(self._served())

    async def start(self) -> None:
        if self._task is None:
            name = f"registry-heartbeat-{self.instance.instance}"
            self._task = asyncio.create_task(self._run(), name=name)

    async def _run(self) -> None:
        must_register, failures = True, 0
        while True:
            try:
                if must_register:
                    await self.registry.register(self.current())
                    must_register = False
                else:
                    await self.registry.heartbeat(self.current())
            except asyncio.CancelledError:
                raise
            except NotRegistered:
                # The backend answered but forgot us: register at once, no backoff.
                self.registered.clear()
                must_register = True
                log.info(
                    "registry forgot this instance; registering again", id=self.instance.instance
                )
                continue
            except Exception as exc:
                failures += 1
                must_register = True
                self.registered.clear()
                if failures == 1 or failures % 10 == 0:
                    log.warning("registry unreachable", id=self.instance.instance, error=str(exc))
                await asyncio.sleep(backoff(failures, cap=self.every, jitter=True))
                continue
            if failures:
                log.info("registry reachable again", id=self.instance.instance)
            failures = 0
            self.registered.set()
            await asyncio.sleep(self.every)

    async def stop(self, *, deregister: bool = True) -> None:
        """Stops heartbeating and (unless told otherwise) deregisters."""
        await stop_tasks([self._task])
        self._task = None
        self.registered.clear()
        if deregister:
            try:
                await asyncio.wait_for(
                    self.registry.deregister(self.instance), DEREGISTER_TIMEOUT_S
                )
            except Exception as exc:
                log.warning("deregistering failed; the TTL will drop it", error=str(exc))

    async def __aenter__(self) -> "Heartbeat":
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
