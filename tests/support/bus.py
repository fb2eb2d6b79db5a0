"""Test-side helpers around the bus: a collecting consumer and a clean-up."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from microshop.chassis.bus import Bus, Delivery, Outcome, Outgoing, connect_bus


def unique_prefix() -> str:
    return f"microshop_test_{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def collecting(url: str, prefix: str, *event_types: str) -> AsyncIterator[list[bytes]]:
    """A consumer named `probe` that keeps every body it receives."""
    received: list[bytes] = []
    bus = connect_bus(url, prefix)

    async def keep(deliveries: list[Delivery]) -> list[Outcome]:
        received.extend(d.body for d in deliveries)
        return [None] * len(deliveries)

    bus.consume("probe", list(event_types), keep)
    await bus.start()
    try:
        yield received
    finally:
        await bus.close()


async def publish(bus: Bus, body: bytes, event_type: str, event_id: str) -> None:
    """Publishes one event and insists the broker confirmed it."""
    assert await bus.publish([Outgoing(body, event_type, event_id)]) == [True]


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


__all__ = ["Bus", "collecting", "publish", "remove_bus_objects", "unique_prefix"]
