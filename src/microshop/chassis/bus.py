"""The event bus: publish with broker confirmation, consume in batches with
explicit acks, bounded retries and a dead-letter destination. One interface, two
brokers by URL (`nats://` JetStream, `amqp://` RabbitMQ).

    bus = connect_bus("nats://127.0.0.1:4222")
    bus.consume("notifications", ["order.created", "order.approved"], handle)  # before start()
    await bus.start()
    await bus.publish([Outgoing(body, "order.created", event_id)])

A service has one consumer, whatever the number of event types it reads (replicas
of the service share it: each event is handled once per service). `handle` gets
what the broker has ready, up to a batch, and returns one outcome per delivery:
None when it was handled (ack), or the error: the bus redelivers it after a
backoff, and after `max_attempts` moves it, with the error, to the dead letters
so the next messages keep flowing.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from microshop.chassis.backoff import backoff

log = structlog.get_logger()

MAX_ATTEMPTS = 5
BATCH = 64
# After a small batch a consumer waits this long before asking for the next one, so
# that a steady trickle of events is handled a few at a time (one transaction, one
# commit, one fetch) rather than one by one; an event waits at most this much longer.
LINGER_S = 0.1


def lingers_after(handled: int) -> bool:
    return handled < BATCH // 4


@dataclass(frozen=True, slots=True)
class Outgoing:
    body: bytes
    type: str
    event_id: str


@dataclass(slots=True)
class Delivery:
    consumer: str
    body: bytes
    type: str
    message_id: str
    attempt: int
    raw: Any  # the broker's own message, for its ack


Outcome = BaseException | None
BatchHandler = Callable[[list[Delivery]], Awaitable[list[Outcome]]]


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

    @property
    def connected(self) -> bool: ...

    def consume(self, consumer: str, event_types: Sequence[str], handle: BatchHandler) -> None: ...
    async def start(self) -> None: ...
    async def publish(self, batch: Sequence[Outgoing]) -> list[bool]:
        """Publishes concurrently; True for each message the broker confirmed."""
        ...

    async def dead_letters(self) -> list[DeadLetter]: ...
    async def replay(self, ids: set[str] | None = None) -> int: ...
    async def close(self) -> None: ...


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def retry_delay(attempt: int) -> float:
    """Seconds before delivery `attempt + 1`: 0.2, 0.4, 0.8, 1.6, ... capped at 5."""
    return backoff(attempt)


def broker_urls(url: str) -> list[str]:
    """`nats://a:4222,nats://b:4222` (or `nats://a:4222,b:4222`): every server to try."""
    scheme = url.partition("://")[0]
    return [part if "://" in part else f"{scheme}://{part}" for part in url.split(",") if part]


def connect_bus(
    url: str,
    prefix: str = "microshop",
    max_attempts: int = MAX_ATTEMPTS,
    replicas: int = 1,
) -> Bus:
    if url.startswith("nats://"):
        from microshop.chassis.bus_nats import NatsBus

        return NatsBus(broker_urls(url), prefix, max_attempts, replicas)
    if url.startswith(("amqp://", "amqps://")):
        from microshop.chassis.bus_rabbit import RabbitBus

        return RabbitBus(url, prefix, max_attempts)
    raise ValueError(f"unsupported broker URL {url!r}: use nats:// or amqp://")


class Settler(Protocol):
    """What a broker does with one delivery once its outcome is known."""

    async def ack(self, delivery: Delivery) -> None: ...
    async def retry_later(self, delivery: Delivery, delay: float) -> None: ...
    async def dead_letter(self, delivery: Delivery, consumer: str, error: str) -> None: ...


async def outcomes_of(handle: BatchHandler, deliveries: list[Delivery]) -> list[Outcome]:
    """The handler's outcomes; a handler that raises fails the whole batch (retried)."""
    try:
        return await handle(deliveries)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return [exc] * len(deliveries)


async def settle(
    broker: Settler,
    consumer: str,
    deliveries: Sequence[Delivery],
    outcomes: Sequence[Outcome],
    max_attempts: int,
) -> None:
    """The retry rule both brokers share: ack, retry with backoff, or dead-letter."""
    for delivery, error in zip(deliveries, outcomes, strict=True):
        if error is None:
            await broker.ack(delivery)
        elif delivery.attempt < max_attempts:
            # Logged on the first failure and when it is given up, not on every retry.
            if delivery.attempt == 1:
                log.warning(
                    "event handler failed, will retry",
                    consumer=consumer,
                    type=delivery.type,
                    message_id=delivery.message_id,
                    attempts_left=max_attempts - delivery.attempt,
                    error=error_text(error),
                )
            await broker.retry_later(delivery, retry_delay(delivery.attempt))
        else:
            log.error(
                "event dead-lettered",
                consumer=consumer,
                type=delivery.type,
                message_id=delivery.message_id,
                attempts=delivery.attempt,
                error=error_text(error),
            )
            await broker.dead_letter(delivery, consumer, error_text(error))


async def quietly(close: Callable[[], Awaitable[Any]]) -> None:
    with contextlib.suppress(Exception):
        await close()
