"""NATS JetStream bus, through nats-py directly.

One stream for events (`<prefix>.events.<type>`, plus `<prefix>.replay.<consumer>.<type>`
for dead letters sent back to one consumer), one for dead letters, and one durable
pull consumer per consuming service filtered on the types it reads. `Nats-Msg-Id`
is the event id, so the server drops a duplicate publish within its window.
`fetch(batch=N)` returns what is ready without waiting for a full batch.
"""

import asyncio
import contextlib
from collections.abc import Sequence

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

from microshop.chassis import bus
from microshop.chassis.nats_connection import connect_to_nats
from microshop.chassis.tasks import stop_tasks

log = structlog.get_logger()

DUPLICATE_WINDOW_S = 120
# The events stream keeps an event this long after it was published, whether or not
# every consumer has it (a consumer away for longer misses what is older); without a
# limit it grew for as long as the system ran, on disk and in the server's memory.
# The dead letters stay until someone replays or drops them.
KEEP_EVENTS_S = 7 * 24 * 3600.0
# Unacked deliveries per consumer before the server stops sending: well above a
# batch, far below what a stuck consumer could pile up.
MAX_ACK_PENDING = 1024
ACK_WAIT_S = 30
FETCH_WAIT_S = 5.0
PUBLISH_TIMEOUT_S = 5.0


class NatsBus:
    def __init__(self, urls: list[str], prefix: str, max_attempts: int, replicas: int = 1) -> None:
        self.urls, self.prefix, self.max_attempts, self.replicas = (
            urls,
            prefix,
            max_attempts,
            replicas,
        )
        self.events_stream = f"{prefix}_events"
        self.dead_stream = f"{prefix}_dead_letters"
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self._connected = False
        self._consuming = False
        self._consumers: list[tuple[str, list[str], bus.BatchHandler]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._declared = False
        self._connecting = asyncio.Lock()

    def subject(self, event_type: str) -> str:
        return f"{self.prefix}.events.{event_type}"

    def replay_subject(self, consumer: str, event_type: str) -> str:
        return f"{self.prefix}.replay.{consumer}.{event_type}"

    def durable(self, consumer: str) -> str:
        return f"{self.prefix}_{consumer}".replace(".", "_")

    def consume(self, consumer: str, event_types: Sequence[str], handle: bus.BatchHandler) -> None:
        self._consumers.append((consumer, list(event_types), handle))

    async def _connection(self) -> JetStreamContext:
        async with self._connecting:
            return await self._connect_once()

    async def _connect_once(self) -> JetStreamContext:
        if self.js is None:
            self.nc = await connect_to_nats(
                self.urls,
                on_disconnect=self._disconnected,
                on_reconnect=self._reconnected,
                purpose="events",
            )
            self.js = self.nc.jetstream(timeout=PUBLISH_TIMEOUT_S)
            self._connected = True
        if not self._declared:
            await self._declare(self.js)
        return self.js

    @property
    def connected(self) -> bool:
        """True once every consumer is bound, while the connection is up."""
        return self._consuming and self._connected

    async def _disconnected(self) -> None:
        self._connected = False

    async def _reconnected(self) -> None:
        self._connected = True

    async def _declare(self, js: JetStreamContext) -> None:
        streams = (
            (
                self.events_stream,
                [f"{self.prefix}.events.>", f"{self.prefix}.replay.>"],
                KEEP_EVENTS_S,
            ),
            (self.dead_stream, [f"{self.prefix}.dead.>"], None),
        )
        for name, subjects, max_age in streams:
            config = StreamConfig(
                name=name,
                subjects=subjects,
                duplicate_window=DUPLICATE_WINDOW_S,
                num_replicas=self.replicas,
                max_age=max_age,
            )
            try:
                await js.add_stream(config)
            except Exception:
                await js.update_stream(config)
        for consumer, types, _ in self._consumers:
            await js.add_consumer(self.events_stream, self._consumer_config(consumer, types))
        self._declared = True

    @property
    def _filters_on_server(self) -> bool:
        """Whether the server filters a consumer on several subjects (NATS 2.10 and
        later); an older one sends every event and we drop the others here."""
        version = self.nc.connected_server_version if self.nc else None
        return version is not None and (version.major, version.minor) >= (2, 10)

    def _consumer_config(self, consumer: str, types: list[str]) -> ConsumerConfig:
        subjects = [*(self.subject(t) for t in types), f"{self.prefix}.replay.{consumer}.>"]
        server_side = self._filters_on_server
        return ConsumerConfig(
            durable_name=self.durable(consumer),
            filter_subjects=subjects if server_side else None,
            filter_subject=None if server_side else f"{self.prefix}.>",
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_S,
            max_ack_pending=MAX_ACK_PENDING,
            # Attempts are counted by us (settle), which dead-letters; the server never drops.
            max_deliver=-1,
        )

    async def start(self) -> None:
        js = await self._connection()
        for consumer, types, handle in self._consumers:
            subscription = await js.pull_subscribe_bind(
                durable=self.durable(consumer), stream=self.events_stream
            )
            self._tasks.append(
                asyncio.create_task(
                    self._consume_forever(consumer, set(types), subscription, handle),
                    name=f"consume-{consumer}",
                )
            )
        self._consuming = True

    async def _consume_forever(
        self,
        consumer: str,
        types: set[str],
        subscription: JetStreamContext.PullSubscription,
        handle: bus.BatchHandler,
    ) -> None:
        failures = 0
        while True:
            try:
                messages = await subscription.fetch(batch=bus.BATCH, timeout=FETCH_WAIT_S)
            except (NatsTimeout, TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("fetching events failed", consumer=consumer, error=repr(exc))
                await asyncio.sleep(min(0.25 * failures, 5.0))
                if failures % 4 == 0:
                    # The server may have lost its state (a new store): declare again.
                    self._declared = False
                    with contextlib.suppress(Exception):
                        await self._connection()
                continue
            failures = 0
            deliveries = []
            for message in messages:
                delivery = self._delivery(consumer, message)
                if delivery.type in types:
                    deliveries.append(delivery)
                else:
                    await message.ack()  # an old server's unfiltered delivery: not ours
            if not deliveries:
                continue
            outcomes = await bus.outcomes_of(handle, deliveries)
            await bus.settle(self, consumer, deliveries, outcomes, self.max_attempts)
            if bus.lingers_after(len(messages)):
                await asyncio.sleep(bus.LINGER_S)

    def _delivery(self, consumer: str, msg: Msg) -> bus.Delivery:
        subject = msg.subject
        replay = f"{self.prefix}.replay.{consumer}."
        event_type = (
            subject.removeprefix(replay)
            if subject.startswith(replay)
            else subject.removeprefix(f"{self.prefix}.events.")
        )
        headers = msg.headers or {}
        return bus.Delivery(
            consumer=consumer,
            body=msg.data,
            type=event_type,
            message_id=headers.get("Nats-Msg-Id") or str(msg.metadata.sequence.stream),
            attempt=msg.metadata.num_delivered or 1,
            raw=msg,
        )

    # -- settling (bus.settle calls these) --------------------------------------

    async def ack(self, delivery: bus.Delivery) -> None:
        await delivery.raw.ack()

    async def retry_later(self, delivery: bus.Delivery, delay: float) -> None:
        await delivery.raw.nak(delay=delay)

    async def dead_letter(self, delivery: bus.Delivery, consumer: str, error: str) -> None:
        js = await self._connection()
        await js.publish(
            f"{self.prefix}.dead.{consumer}.{delivery.type}",
            delivery.body,
            stream=self.dead_stream,
            headers={
                "x-event-id": delivery.message_id,
                "x-event-type": delivery.type,
                "x-consumer": consumer,
                "x-error": error.replace("\r", " ").replace("\n", " "),
                "x-attempts": str(delivery.attempt),
            },
        )
        await delivery.raw.ack()

    # -- publishing ---------------------------------------------------------------

    async def publish(self, batch: Sequence[bus.Outgoing]) -> list[bool]:
        js = await self._connection()
        results = await asyncio.gather(
            *(
                js.publish(
                    self.subject(message.type),
                    message.body,
                    timeout=PUBLISH_TIMEOUT_S,
                    stream=self.events_stream,
                    headers={"Nats-Msg-Id": message.event_id},
                )
                for message in batch
            ),
            return_exceptions=True,
        )
        return [not isinstance(result, BaseException) for result in results]

    # -- operators ----------------------------------------------------------------

    async def dead_letters(self) -> list[bus.DeadLetter]:
        js = await self._connection()
        info = await js.stream_info(self.dead_stream)
        letters = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                raw = await js.get_msg(self.dead_stream, seq)
            except Exception:
                continue  # deleted (replayed) message
            headers = raw.headers or {}
            letters.append(
                bus.DeadLetter(
                    id=str(seq),
                    event_id=headers.get("x-event-id", ""),
                    type=headers.get("x-event-type", ""),
                    consumer=headers.get("x-consumer", ""),
                    error=headers.get("x-error", ""),
                    attempts=int(headers.get("x-attempts", "0") or 0),
                    body=raw.data or b"",
                )
            )
        return letters

    async def replay(self, ids: set[str] | None = None) -> int:
        js = await self._connection()
        replayed = 0
        for letter in await self.dead_letters():
            if ids is not None and letter.id not in ids and letter.event_id not in ids:
                continue
            # Back to the one consumer that gave it up, as a new delivery (no
            # Nats-Msg-Id: the server would drop it as a duplicate of the original).
            await js.publish(
                self.replay_subject(letter.consumer, letter.type),
                letter.body,
                stream=self.events_stream,
                timeout=PUBLISH_TIMEOUT_S,
            )
            await js.delete_msg(self.dead_stream, int(letter.id))
            replayed += 1
        return replayed

    async def close(self) -> None:
        await stop_tasks(self._tasks)
        self._tasks.clear()
        if self.nc is not None:
            await bus.quietly(self.nc.close)
        self.nc, self.js, self._declared = None, None, False
        self._connected = self._consuming = False
