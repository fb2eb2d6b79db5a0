"""When the registry dropped a host's instances and when it took them back, seen
from the gateway's host (NATS on h1, which no fault touches)."""

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import nats

from microshop.chassis.registry import NatsRegistry

STREAMS = ("microshop_events", "microshop_dead_letters", "KV_microshop_registry")


@dataclass
class RegistryTimeline:
    url: str
    started: float
    # (seconds since the load began, addresses of the live instances -> how many)
    changes: list[tuple[float, dict[str, int]]] = field(default_factory=list)

    async def follow(self) -> None:
        registry = NatsRegistry([self.url], replicas=3)
        try:
            async with contextlib.aclosing(registry.watch()) as updates:
                async for live in updates:
                    counts: dict[str, int] = {}
                    for instance in live:
                        counts[instance.address] = counts.get(instance.address, 0) + 1
                    self.changes.append((time.monotonic() - self.started, counts))
        finally:
            await registry.close()

    def dropped_after(self, address: str, since: float) -> float | None:
        """Seconds from `since` until no instance at `address` was listed."""
        for at, counts in self.changes:
            if at >= since and counts.get(address, 0) == 0:
                return at - since
        return None

    def back_after(self, address: str, since: float, instances: int) -> float | None:
        """Seconds from `since` until all `instances` at `address` were listed again."""
        for at, counts in self.changes:
            if at >= since and counts.get(address, 0) >= instances:
                return at - since
        return None


def start(url: str, started: float) -> tuple[RegistryTimeline, asyncio.Task[None]]:
    timeline = RegistryTimeline(url, started)
    return timeline, asyncio.create_task(timeline.follow())


async def replicas(url: str) -> dict[str, int]:
    """How many servers keep each of microshop's streams (the registry's bucket too)."""
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        return {name: (await js.stream_info(name)).config.num_replicas or 1 for name in STREAMS}
    finally:
        await connection.close()
