"""NATS JetStream bus: one stream for events, one for dead letters, a durable
pull consumer per (consuming service, event type), `Nats-Msg-Id` = event id so
the server drops a duplicate publish within its window."""

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.js.api import StreamConfig

from microshop.chassis.bus import DeadLetter, Handler, backoff, error_text, run_handler

log = structlog.get_logger()


class NatsBus:
    def __init__(self, url: str, prefix: str, max_attempts: int) -> None:
        self.url, self.prefix, self.max_attempts = url, prefix, max_attempts
        self.broker = NatsBroker(url, logger=None, max_reconnect_attempts=-1)
        self.events = JStream(f"{prefix}_events", subjects=[f"{prefix}.events.>"], declare=False)
        self.dead = JStream(f"{prefix}_dead_letters", subjects=[f"{prefix}.dead.>"], declare=False)
        self._declared = False

    def subject(self, event_type: str) -> str:
        return f"{self.prefix}.events.{event_type}"

    def subscribe(self, consumer: str, event_type: str, handler: Handler) -> None:
        durable = f"{self.prefix}_{consumer}_{event_type}".replace(".", "_")

        @self.broker.subscriber(
            self.subject(event_type),
            stream=self.events,
            durable=durable,
            pull_sub=PullSub(batch_size=16, timeout=1.0),
            ack_policy=AckPolicy.MANUAL,
        )
        async def deliver(msg: NatsMessage) -> None:
            attempt = msg.raw_message.metadata.num_delivered or 1
            error = await run_handler(handler, msg.body)
            if error is None:
                await msg.ack()
            elif attempt < self.max_attempts:
                log.warning(
                    "event handler failed, will retry",
                    consumer=consumer,
                    type=event_type,
                    attempt=attempt,
                    error=error_text(error),
                )
                await msg.nack(delay=backoff(attempt))
            else:
                await self._dead_letter(msg, consumer, event_type, attempt, error_text(error))
                await msg.ack()

    async def _dead_letter(
        self, msg: NatsMessage, consumer: str, event_type: str, attempts: int, error: str
    ) -> None:
        log.error("event dead-lettered", consumer=consumer, type=event_type, error=error)
        await self.broker.publish(
            msg.body,
            f"{self.prefix}.dead.{consumer}.{event_type}",
            stream=self.dead.name,
            headers={
                "x-event-id": msg.headers.get("Nats-Msg-Id", ""),
                "x-event-type": event_type,
                "x-consumer": consumer,
                "x-error": error,
                "x-attempts": str(attempts),
            },
        )

    async def start(self) -> None:
        await self.broker.connect()
        await self._declare()
        await self.broker.start()

    async def _declare(self) -> None:
        if self._declared:
            return
        js = self.broker.config.connection_state.stream
        for stream in (self.events, self.dead):
            config = StreamConfig(
                name=stream.name, subjects=list(stream.subjects), duplicate_window=120
            )
            try:
                await js.add_stream(config)
            except Exception:
                await js.update_stream(config)
        self._declared = True

    async def publish(self, body: bytes, event_type: str, event_id: str) -> None:
        if not self._declared:
            await self.broker.connect()
            await self._declare()
        await self.broker.publish(
            body,
            self.subject(event_type),
            stream=self.events.name,
            headers={"Nats-Msg-Id": event_id, "content-type": "application/json"},
            timeout=5,
        )

    async def dead_letters(self) -> list[DeadLetter]:
        await self.broker.connect()
        await self._declare()
        js = self.broker.config.connection_state.stream
        info = await js.stream_info(self.dead.name)
        letters = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                raw = await js.get_msg(self.dead.name, seq)
            except Exception:
                continue  # deleted (replayed) message
            headers = raw.headers or {}
            letters.append(
                DeadLetter(
                    id=str(seq),
                    event_id=headers.get("x-event-id", ""),
                    type=headers.get("x-event-type", ""),
                    consumer=headers.get("x-consumer", ""),
                    error=headers.get("x-error", ""),
                    attempts=int(headers.get("x-attempts", "0")),
                    body=raw.data or b"",
                )
            )
        return letters

    async def replay(self, ids: set[str] | None = None) -> int:
        js = self.broker.config.connection_state.stream
        replayed = 0
        for letter in await self.dead_letters():
            if ids is not None and letter.id not in ids and letter.event_id not in ids:
                continue
            # A replay is a new delivery: no Nats-Msg-Id, or the server would drop it
            # as a duplicate of the original publish. The consumer's inbox still dedupes.
            await self.broker.publish(
                letter.body, self.subject(letter.type), stream=self.events.name, timeout=5
            )
            await js.delete_msg(self.dead.name, int(letter.id))
            replayed += 1
        return replayed

    async def close(self) -> None:
        await self.broker.stop()
