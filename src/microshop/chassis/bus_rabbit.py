"""RabbitMQ bus, through aio-pika directly: a durable topic exchange for events, one
durable queue per consuming service bound to each type it reads, persistent
messages, publisher confirms, and a dead-letter exchange with one durable queue.

Deliveries are handed to the handler in batches of what has arrived (prefetch
bounds it). RabbitMQ has no delayed redelivery, so a failed delivery is retried
by republishing a copy with `x-attempt` + 1 to the service's queue after the
backoff, then acking the original (a crash in between delivers it twice; the
consumer's inbox dedupes).
"""

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, cast

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)

from microshop.chassis import bus
from microshop.chassis.tasks import stop_tasks

log = structlog.get_logger()

PUBLISH_TIMEOUT_S = 5.0
PERSISTENT = aio_pika.DeliveryMode.PERSISTENT


def _attempt(headers: Mapping[str, object], default: int) -> int:
    """The `x-attempt` header, which this bus writes as an int (see _message)."""
    return int(cast(int, headers.get("x-attempt", default) or default))


class RabbitBus:
    def __init__(self, url: str, prefix: str, max_attempts: int) -> None:
        self.url, self.prefix, self.max_attempts = url, prefix, max_attempts
        self.exchange_name = f"{prefix}.events"
        self.dead_exchange_name = f"{prefix}.dead"
        self.dead_queue_name = f"{prefix}.dead_letters"
        self.connection: AbstractRobustConnection | None = None
        self.channel: AbstractChannel | None = None
        self.exchange: AbstractExchange | None = None
        self.dead_exchange: AbstractExchange | None = None
        self._consumers: list[tuple[str, list[str], bus.BatchHandler]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._connecting = asyncio.Lock()
        self._consuming = False

    @property
    def connected(self) -> bool:
        """True once every consumer is bound and consuming: an event published to a
        queue not bound yet would be lost."""
        return self._consuming and self.connection is not None and not self.connection.is_closed

    def queue_name(self, consumer: str) -> str:
        return f"{self.prefix}.{consumer}"

    def consume(self, consumer: str, event_types: Sequence[str], handle: bus.BatchHandler) -> None:
        self._consumers.append((consumer, list(event_types), handle))

    async def _connect(self) -> AbstractChannel:
        async with self._connecting:
            return await self._connect_once()

    async def _connect_once(self) -> AbstractChannel:
        if self.channel is None:
            self.connection = await aio_pika.connect_robust(self.url, timeout=5)
            channel = await self.connection.channel(publisher_confirms=True)
            self.exchange = await channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            self.dead_exchange = await channel.declare_exchange(
                self.dead_exchange_name, aio_pika.ExchangeType.FANOUT, durable=True
            )
            dead = await channel.declare_queue(self.dead_queue_name, durable=True)
            await dead.bind(self.dead_exchange)
            self.channel = channel
        return self.channel

    async def start(self) -> None:
        await self._connect()
        assert self.connection is not None and self.exchange is not None
        for consumer, types, handle in self._consumers:
            channel = await self.connection.channel()
            # At most two batches unacked: one being handled, one arriving.
            await channel.set_qos(prefetch_count=2 * bus.BATCH)
            queue = await channel.declare_queue(
                self.queue_name(consumer),
                durable=True,
                arguments={"x-dead-letter-exchange": self.dead_exchange_name},
            )
            for event_type in types:
                await queue.bind(self.exchange_name, routing_key=event_type)
            arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(arrived.put)
            self._spawn(self._consume_forever(consumer, arrived, handle), f"consume-{consumer}")
        self._consuming = True

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume_forever(
        self,
        consumer: str,
        arrived: "asyncio.Queue[AbstractIncomingMessage]",
        handle: bus.BatchHandler,
    ) -> None:
        while True:
            batch = [await arrived.get()]
            if bus.lingers_after(arrived.qsize() + 1):
                await asyncio.sleep(bus.LINGER_S)
            while len(batch) < bus.BATCH and not arrived.empty():
                batch.append(arrived.get_nowait())
            deliveries = [self._delivery(consumer, message) for message in batch]
            outcomes = await bus.outcomes_of(handle, deliveries)
            try:
                await bus.settle(self, consumer, deliveries, outcomes, self.max_attempts)
            except Exception as exc:
                # The channel went away: the broker redelivers whatever is unacked.
                log.warning("settling deliveries failed", consumer=consumer, error=repr(exc))

    def _delivery(self, consumer: str, message: AbstractIncomingMessage) -> bus.Delivery:
        headers = message.headers or {}
        return bus.Delivery(
            consumer=consumer,
            body=message.body,
            type=str(headers.get("x-event-type") or message.routing_key or ""),
            message_id=str(message.message_id or ""),
            attempt=_attempt(headers, 1),
            raw=message,
        )

    # -- settling (bus.settle calls these) --------------------------------------

    async def ack(self, delivery: bus.Delivery) -> None:
        await delivery.raw.ack()

    async def retry_later(self, delivery: bus.Delivery, delay: float) -> None:
        self._spawn(self._retry(delivery, delay), "retry-delivery")

    async def _retry(self, delivery: bus.Delivery, delay: float) -> None:
        await asyncio.sleep(delay)
        channel = await self._connect()
        # Straight to this consumer's queue (the default exchange routes by queue name).
        await channel.default_exchange.publish(
            self._message(delivery.body, delivery.type, delivery.message_id, delivery.attempt + 1),
            routing_key=self.queue_name(delivery.consumer),
            timeout=PUBLISH_TIMEOUT_S,
        )
        await delivery.raw.ack()

    async def dead_letter(self, delivery: bus.Delivery, consumer: str, error: str) -> None:
        await self._connect()
        assert self.dead_exchange is not None
        message = self._message(delivery.body, delivery.type, delivery.message_id, delivery.attempt)
        message.headers.update(
            {"x-event-id": delivery.message_id, "x-consumer": consumer, "x-error": error}
        )
        await self.dead_exchange.publish(message, routing_key="", timeout=PUBLISH_TIMEOUT_S)
        await delivery.raw.ack()

    # -- publishing ---------------------------------------------------------------

    def _message(
        self, body: bytes, event_type: str, event_id: str, attempt: int
    ) -> aio_pika.Message:
        return aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=PERSISTENT,
            message_id=event_id,
            headers={"x-event-type": event_type, "x-attempt": attempt},
        )

    async def publish(self, batch: Sequence[bus.Outgoing]) -> list[bool]:
        await self._connect()
        assert self.exchange is not None
        exchange = self.exchange
        results = await asyncio.gather(
            *(
                exchange.publish(
                    self._message(message.body, message.type, message.event_id, 1),
                    routing_key=message.type,
                    # An event nobody reads is not an error (NATS keeps it in the stream).
                    mandatory=False,
                    timeout=PUBLISH_TIMEOUT_S,
                )
                for message in batch
            ),
            return_exceptions=True,
        )
        return [not isinstance(result, BaseException) for result in results]

    # -- operators ----------------------------------------------------------------

    async def _read_dead_letters(
        self,
    ) -> tuple[AbstractChannel, list[tuple[bus.DeadLetter, AbstractIncomingMessage]]]:
        """Every dead letter, unacked on a private channel (closing it requeues them)."""
        await self._connect()
        assert self.connection is not None
        channel = await self.connection.channel()
        queue = await channel.get_queue(self.dead_queue_name)
        found = []
        while (raw := await queue.get(no_ack=False, fail=False)) is not None:
            headers = dict(raw.headers or {})
            letter = bus.DeadLetter(
                id=str(raw.message_id or headers.get("x-event-id", "")),
                event_id=str(headers.get("x-event-id", raw.message_id or "")),
                type=str(headers.get("x-event-type", "")),
                consumer=str(headers.get("x-consumer", "")),
                error=str(headers.get("x-error", "")),
                attempts=_attempt(headers, 0),
                body=raw.body,
            )
            found.append((letter, raw))
        return channel, found

    async def dead_letters(self) -> list[bus.DeadLetter]:
        channel, found = await self._read_dead_letters()
        await channel.close()
        return [letter for letter, _ in found]

    async def replay(self, ids: set[str] | None = None) -> int:
        channel, found = await self._read_dead_letters()
        publisher = await self._connect()
        replayed = 0
        try:
            for letter, raw in found:
                if ids is None or letter.id in ids or letter.event_id in ids:
                    # Back to the one consumer that gave it up, with its attempts anew.
                    await publisher.default_exchange.publish(
                        self._message(letter.body, letter.type, letter.event_id, 1),
                        routing_key=self.queue_name(letter.consumer),
                        timeout=PUBLISH_TIMEOUT_S,
                    )
                    await raw.ack()
                    replayed += 1
        finally:
            await channel.close()  # the rest go back to the queue
        return replayed

    async def close(self) -> None:
        await stop_tasks(list(self._tasks))
        if self.connection is not None:
            await bus.quietly(self.connection.close)
        self.connection = self.channel = self.exchange = self.dead_exchange = None
        self._consuming = False
