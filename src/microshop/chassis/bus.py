"""The event bus: publish with broker confirmation, consume with explicit acks,
bounded retries and a dead-letter destination. One interface, two brokers by URL
(`nats://` JetStream, `amqp://` RabbitMQ), both through FastStream.

    bus = connect_bus("nats://127.0.0.1:4222")
    bus.subscribe("notifications", "order.created", handle)   # before start()
    await bus.start()
    await bus.publish(envelope_json, "order.created", event_id)

`handle(envelope_bytes)` returns normally when the event is handled (ack) and
raises when it failed: the bus redelivers it with backoff, and after
`max_attempts` publishes it, with the error, to the dead letters and acks it so
the next messages keep flowing.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

log = structlog.get_logger()

Handler = Callable[[bytes], Awaitable[None]]

MAX_ATTEMPTS = 5


def backoff(attempt: int) -> float:
    """Seconds before delivery `attempt + 1`: 0.2, 0.4, 0.8, 1.6, ... capped at 5."""
    return float(min(0.2 * 2 ** (attempt - 1), 5.0))


@dataclass(frozen=True)
class DeadLetter:
    id: str  # broker-side handle used by replay
    event_id: str
    type: str
    consumer: str
    error: str
    attempts: int
    body: bytes


class Bus(Protocol):
    prefix: str
    max_attempts: int

    def subscribe(self, consumer: str, event_type: str, handler: Handler) -> None: ...
    async def start(self) -> None: ...
    async def publish(self, body: bytes, event_type: str, event_id: str) -> None: ...
    async def dead_letters(self) -> list[DeadLetter]: ...
    async def replay(self, ids: set[str] | None = None) -> int: ...
    async def close(self) -> None: ...


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def connect_bus(url: str, prefix: str = "microshop", max_attempts: int = MAX_ATTEMPTS) -> Bus:
    if url.startswith("nats://"):
        from microshop.chassis.bus_nats import NatsBus

        return NatsBus(url, prefix, max_attempts)
    if url.startswith(("amqp://", "amqps://")):
        from microshop.chassis.bus_rabbit import RabbitBus

        return RabbitBus(url, prefix, max_attempts)
    raise ValueError(f"unsupported broker URL {url!r}: use nats:// or amqp://")


async def run_handler(handler: Handler, body: bytes) -> BaseException | None:
    """Runs a handler; returns the error instead of raising, so each bus decides
    between retry and dead letter."""
    try:
        await handler(body)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return exc
    return None


async def quietly(close: Callable[[], Awaitable[Any]]) -> None:
    with contextlib.suppress(Exception):
        await close()
