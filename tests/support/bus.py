"""Test-side helpers around the bus: a collecting consumer and a clean-up."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from microshop.chassis.bus import Bus, connect_bus


def unique_prefix() -> str:
    return f"microshop_test_{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def collecting(url: str, prefix: str, *event_types: str) -> AsyncIterator[list[bytes]]:
    """A consumer named `probe` that keeps every body it receives."""
    received: list[bytes] = []
    bus = connect_bus(url, prefix)

    async def keep(body: bytes) -> None:
        received.append(body)

    for event_type in event_types:
        bus.subscribe("probe", event_type, keep)
    await bus.start()
    try:
        yield received
    finally:
        await bus.close()


async def remove_bus_objects(url: str, prefix: str, queues: list[str] = ()) -> None:  # type: ignore[assignment]
    if url.startswith("nats://"):
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        for stream in (f"{prefix}_events", f"{prefix}_dead_letters"):
            with suppress(Exception):
                await js.delete_stream(stream)
        await nc.close()
    else:
        import aio_pika

        conn = await aio_pika.connect(url)
        channel = await conn.channel()
        for name in [*queues, f"{prefix}.dead_letters"]:
            await channel.queue_delete(name)
        for exchange in (f"{prefix}.events", f"{prefix}.dead"):
            await channel.exchange_delete(exchange)
        await conn.close()


async def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check(), "condition not met in time"


__all__ = ["Bus", "collecting", "eventually", "remove_bus_objects", "unique_prefix"]
