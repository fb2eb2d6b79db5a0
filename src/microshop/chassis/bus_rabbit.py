"""RabbitMQ bus: a durable topic exchange for events, a durable queue per
(consuming service, event type) bound to it, persistent messages, publisher
confirms, and a dead-letter exchange with one durable queue for dead letters.

RabbitMQ has no delayed redelivery, so a failed delivery is retried by
republishing a copy with `x-attempt` + 1 after the backoff, then acking the
original (a crash in between delivers it twice; the consumer's inbox dedupes)."""

import asyncio

import structlog
from faststream import AckPolicy
from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange, RabbitMessage, RabbitQueue

from microshop.chassis.bus import DeadLetter, Handler, backoff, error_text, run_handler

log = structlog.get_logger()


class RabbitBus:
    def __init__(self, url: str, prefix: str, max_attempts: int) -> None:
        self.url, self.prefix, self.max_attempts = url, prefix, max_attempts
        self.broker = RabbitBroker(url, logger=None)
        self.exchange = RabbitExchange(f"{prefix}.events", type=ExchangeType.TOPIC, durable=True)
        self.dead_exchange = RabbitExchange(
            f"{prefix}.dead", type=ExchangeType.FANOUT, durable=True
        )
        self.dead_queue = RabbitQueue(f"{prefix}.dead_letters", durable=True)
        self._declared = False

    def subscribe(self, consumer: str, event_type: str, handler: Handler) -> None:
        queue = RabbitQueue(
            f"{self.prefix}.{consumer}.{event_type}",
            durable=True,
            routing_key=event_type,
            arguments={"x-dead-letter-exchange": self.dead_exchange.name},
        )

        @self.broker.subscriber(queue, self.exchange, ack_policy=AckPolicy.MANUAL)
        async def deliver(msg: RabbitMessage) -> None:
            attempt = int(msg.headers.get("x-attempt", 1))
            error = await run_handler(handler, msg.body)
            if error is None:
                await msg.ack()
                return
            if attempt < self.max_attempts:
                log.warning(
                    "event handler failed, will retry",
                    consumer=consumer,
                    type=event_type,
                    attempt=attempt,
                    error=error_text(error),
                )
                await asyncio.sleep(backoff(attempt))
                await self.broker.publish(
                    msg.body,
                    queue=queue.name,
                    persist=True,
                    message_id=msg.message_id,
                    headers={**msg.headers, "x-attempt": attempt + 1},
                )
            else:
                log.error(
                    "event dead-lettered",
                    consumer=consumer,
                    type=event_type,
                    error=error_text(error),
                )
                await self.broker.publish(
                    msg.body,
                    exchange=self.dead_exchange,
                    persist=True,
                    message_id=msg.message_id,
                    headers={
                        "x-event-id": msg.message_id or "",
                        "x-event-type": event_type,
                        "x-consumer": consumer,
                        "x-error": error_text(error),
                        "x-attempts": attempt,
                    },
                )
            await msg.ack()

    async def start(self) -> None:
        await self._declare()
        await self.broker.start()

    async def _declare(self) -> None:
        if self._declared:
            return
        await self.broker.connect()
        await self.broker.declare_exchange(self.exchange)
        dead = await self.broker.declare_exchange(self.dead_exchange)
        queue = await self.broker.declare_queue(self.dead_queue)
        await queue.bind(dead)
        self._declared = True

    async def publish(self, body: bytes, event_type: str, event_id: str) -> None:
        await self._declare()
        # mandatory + confirms: the call returns once the broker has the message.
        await self.broker.publish(
            body,
            exchange=self.exchange,
            routing_key=event_type,
            persist=True,
            message_id=event_id,
            content_type="application/json",
            timeout=5,
        )

    async def dead_letters(self) -> list[DeadLetter]:
        return [letter for letter, _ in await self._read_dead_letters(requeue=True)]

    async def _read_dead_letters(self, requeue: bool) -> list[tuple[DeadLetter, object]]:
        """Reads every dead letter without removing it (the caller acks or requeues)."""
        await self._declare()
        channel = await self.broker._connection.channel()  # a private channel: its close requeues
        queue = await channel.get_queue(self.dead_queue.name)
        found = []
        while (raw := await queue.get(no_ack=False, fail=False)) is not None:
            headers = dict(raw.headers or {})
            letter = DeadLetter(
                id=str(raw.message_id or headers.get("x-event-id", "")),
                event_id=str(headers.get("x-event-id", raw.message_id or "")),
                type=str(headers.get("x-event-type", "")),
                consumer=str(headers.get("x-consumer", "")),
                error=str(headers.get("x-error", "")),
                attempts=int(headers.get("x-attempts", 0) or 0),
                body=raw.body,
            )
            found.append((letter, raw))
        if requeue:
            await channel.close()
            return found
        self._dead_channel = channel
        return found

    async def replay(self, ids: set[str] | None = None) -> int:
        replayed = 0
        for letter, raw in await self._read_dead_letters(requeue=False):
            if ids is None or letter.id in ids or letter.event_id in ids:
                await self.publish(letter.body, letter.type, letter.event_id)
                await raw.ack()  # type: ignore[attr-defined]
                replayed += 1
            else:
                await raw.nack(requeue=True)  # type: ignore[attr-defined]
        await self._dead_channel.close()
        return replayed

    async def close(self) -> None:
        await self.broker.stop()
