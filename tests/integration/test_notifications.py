"""The notifications service consuming order events from a real broker."""

import email
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aio_pika.exceptions import ChannelClosed
from prometheus_client import REGISTRY

from microshop.chassis.bus import connect_bus
from microshop.contracts.events import Event, OrderApproved, OrderCreated
from microshop.services.notifications.main import NotificationsSettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import free_port, serving
from tests.support.bus import publish, remove_bus_objects, unique_prefix
from tests.support.db import fetch_rows
from tests.support.http import Api
from tests.support.servers import RABBITMQ, embedded_nats, require_server
from tests.support.waiting import eventually


@pytest.fixture(params=["embedded-nats", "rabbitmq"])
async def broker_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "rabbitmq":
        require_server(RABBITMQ)
        yield "amqp://guest:guest@127.0.0.1:5672/"
    else:
        async with embedded_nats(str(tmp_path / "nats")) as url:
            yield url


def an_order(order_id: int = 42) -> OrderCreated:
    return OrderCreated(
        id=order_id,
        user_id=1,
        user_name="John Doe",
        user_email="john@example.com",
        product_id=1,
        product_name="Laptop",
        unit_price=Decimal("999.99"),
        quantity=2,
        total=Decimal("1999.98"),
        status="pending",
        created_at=datetime.now(UTC),
    )


def its_approval(order: OrderCreated) -> OrderApproved:
    return OrderApproved(
        id=order.id,
        user_id=order.user_id,
        user_name=order.user_name,
        user_email=order.user_email,
        total=order.total,
        status="approved",
    )


async def publish_facts(url: str, prefix: str, facts: list[Event]) -> None:
    """Each fact under a new event id (a producer that recorded it more than once)."""
    producer = connect_bus(url, prefix)
    for fact in facts:
        envelope = fact.envelope()
        await publish(producer, envelope.model_dump_json().encode(), fact.TYPE, str(envelope.id))
    await producer.close()


async def has_handled(database_url: str, events: int) -> bool:
    """Whether the service's inbox holds `events` event ids (a redelivered id counts once)."""
    rows = await fetch_rows(database_url, "SELECT count(*) AS n FROM inbox")
    return int(rows[0]["n"]) == events


async def rabbitmq_queue_consumed(url: str, queue: str) -> bool:
    """Whether someone consumes `queue`: the service binds it before it consumes.
    (/health/ready says "broker ok" once connected, before the bindings exist.)"""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return bool(declared.declaration_result.consumer_count)
    except ChannelClosed:  # not declared yet
        return False
    finally:
        await connection.close()


def mail_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "mail").glob("*.eml"))


@dataclass
class Notifications:
    api: Api
    broker_url: str
    prefix: str
    database_url: str


def settings_for(
    database_url: str, tmp_path: Path, broker_url: str | None = None, prefix: str = "microshop"
) -> NotificationsSettings:
    return NotificationsSettings(
        database_url=database_url,
        data_dir=tmp_path,
        open_mode=True,
        broker_url=broker_url,
        bus_prefix=prefix,
    )


@pytest.fixture
async def notifications(
    broker_url: str, databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[Notifications]:
    prefix = unique_prefix()
    async with (
        databases("notifications") as db_url,
        serving(build_app(settings_for(db_url, tmp_path, broker_url, prefix))) as base,
    ):
        api = Api(base)
        if broker_url.startswith("amqp://"):
            # RabbitMQ drops what no queue is bound for yet: wait for the subscription.
            await eventually(lambda: rabbitmq_queue_consumed(broker_url, f"{prefix}.notifications"))
        yield Notifications(api, broker_url, prefix, db_url)
        await api.close()
    await remove_bus_objects(broker_url, prefix, [f"{prefix}.notifications"])


async def test_an_order_gets_exactly_one_confirmation_email_whatever_is_redelivered(
    notifications: Notifications, tmp_path: Path
) -> None:
    producer = connect_bus(notifications.broker_url, notifications.prefix)
    envelope = an_order().envelope()
    body = envelope.model_dump_json().encode()
    # The same event three times (a relay that crashed before marking it sent), then
    # the same fact under a new event id (a producer that recorded it twice).
    for _ in range(3):
        await publish(producer, body, "order.created", str(envelope.id))
    await producer.close()
    await publish_facts(notifications.broker_url, notifications.prefix, [an_order()])

    # Both event ids handled: every copy has been through the service.
    await eventually(lambda: has_handled(notifications.database_url, 2))
    status, sent = await notifications.api.get("/notifications")
    assert status == 200 and len(sent) == 1
    assert len(mail_files(tmp_path)) == 1
    message = email.message_from_bytes(mail_files(tmp_path)[0].read_bytes())
    assert message["To"] == "john@example.com"
    assert message["Subject"] == "Order #42 confirmed"
    assert "1999.98" in message.get_payload()
    assert sent[0]["recipient"] == "john@example.com" and sent[0]["transport"] == "file"
    assert sent[0]["key"] == "order-42-order.created"


async def test_the_same_facts_twice_in_one_batch_send_one_email_each(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    """Published before the service starts, so its consumer takes them in one batch
    (one transaction): a second copy of a fact must see the first one's record."""
    order = an_order(5)
    async with (
        embedded_nats(str(tmp_path / "nats")) as url,
        databases("notifications") as db_url,
    ):
        prefix = unique_prefix()
        await publish_facts(url, prefix, [order, its_approval(order)] * 2)
        async with serving(build_app(settings_for(db_url, tmp_path, url, prefix))) as base:
            api = Api(base)
            await eventually(lambda: has_handled(db_url, 4))
            status, sent = await api.get("/notifications")
            await api.close()
    assert status == 200
    assert [message["subject"] for message in sent] == ["Order #5 approved", "Order #5 confirmed"]
    assert [path.name for path in mail_files(tmp_path)] == [
        "order-5-order.approved.eml",
        "order-5-order.created.eml",
    ]


async def test_with_an_smtp_url_the_email_goes_to_the_smtp_server(tmp_path: Path) -> None:
    """A real SMTP server (aiosmtpd) on loopback receives the confirmation."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[email.message.Message] = []

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: email.message.Message) -> None:
            received.append(message)

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with embedded_nats(str(tmp_path / "nats")) as url:
            prefix = unique_prefix()
            settings = NotificationsSettings(
                data_dir=tmp_path,
                open_mode=True,
                broker_url=url,
                bus_prefix=prefix,
                smtp_url=f"smtp://127.0.0.1:{port}",
            )
            async with serving(build_app(settings)) as base:
                api = Api(base)
                await publish_facts(url, prefix, [an_order(7)])

                async def recorded() -> bool:
                    return len((await api.get("/notifications"))[1]) == 1

                await eventually(recorded)
                status, sent = await api.get("/notifications")
                await api.close()
    finally:
        controller.stop()
    assert len(received) == 1
    assert received[0]["To"] == "john@example.com"
    assert received[0]["Subject"] == "Order #7 confirmed"
    assert received[0]["Message-ID"] == "<order-7-order.created@microshop.local>"
    assert (status, sent[0]["transport"]) == (200, "smtp")
    assert not (tmp_path / "mail").exists(), "no .eml when SMTP is configured"


def failed_attempts(event_type: str) -> float:
    """This process's count of failed attempts at `event_type` (the services in these
    tests run in the test's own process)."""
    labels = {"type": event_type, "outcome": "failed"}
    return REGISTRY.get_sample_value("microshop_events_handled_total", labels) or 0.0


async def test_an_email_the_server_refuses_is_not_recorded_and_goes_out_once_it_answers(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    """The record is written before the e-mail is sent, so that its key stops a second
    e-mail; a send that fails takes the record with it, and the bus's retry sends the
    e-mail later, once."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[email.message.Message] = []

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: email.message.Message) -> None:
            received.append(message)

    port = free_port()  # nothing listens there yet: the first attempts are refused
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    failed_before = failed_attempts("order.created")
    async with (
        embedded_nats(str(tmp_path / "nats")) as url,
        databases("notifications") as db_url,
    ):
        prefix = unique_prefix()
        settings = settings_for(db_url, tmp_path, url, prefix).model_copy(
            update={"smtp_url": f"smtp://127.0.0.1:{port}"}
        )
        async with serving(build_app(settings)) as base:
            api = Api(base)
            await publish_facts(url, prefix, [an_order(9)])

            async def refused_twice() -> bool:
                return failed_attempts("order.created") >= failed_before + 2

            await eventually(refused_twice)
            assert await api.get("/notifications") == (200, [])
            controller.start()
            try:
                await eventually(lambda: has_handled(db_url, 1))
                status, sent = await api.get("/notifications")
            finally:
                controller.stop()
                await api.close()
    assert [message["Subject"] for message in received] == ["Order #9 confirmed"]
    assert status == 200 and [m["location"] for m in sent] == [f"smtp://127.0.0.1:{port}"]


async def test_in_a_batch_an_email_the_server_refuses_fails_alone_and_the_rest_go_once(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    """Three confirmations published before the service starts, so that one batch
    takes them: the server refuses one recipient for a while. The other two are
    sent once and not again when the third is retried; the third goes out once the
    server takes it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[email.message.Message] = []
    refusing = {"bounce@example.com"}

    class Keep(Message):  # type: ignore[misc]
        async def handle_RCPT(
            self, server: object, session: object, envelope: Any, address: str, options: object
        ) -> str:
            if address in refusing:
                return "550 no such mailbox, for now"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        def handle_message(self, message: email.message.Message) -> None:
            received.append(message)

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    failed_before = failed_attempts("order.created")
    orders = [an_order(21), an_order(22).model_copy(update={"user_email": "bounce@example.com"})]
    orders.append(an_order(23))
    try:
        async with (
            embedded_nats(str(tmp_path / "nats")) as url,
            databases("notifications") as db_url,
        ):
            prefix = unique_prefix()
            await publish_facts(url, prefix, orders)
            settings = settings_for(db_url, tmp_path, url, prefix).model_copy(
                update={"smtp_url": f"smtp://127.0.0.1:{port}"}
            )
            async with serving(build_app(settings)) as base:
                api = Api(base)

                async def refused_twice() -> bool:
                    return failed_attempts("order.created") >= failed_before + 2

                await eventually(refused_twice)
                assert sorted(m["Subject"] for m in received) == [
                    "Order #21 confirmed",
                    "Order #23 confirmed",
                ]
                refusing.clear()
                await eventually(lambda: has_handled(db_url, 3))
                status, sent = await api.get("/notifications")
                await api.close()
    finally:
        controller.stop()
    assert sorted(m["Subject"] for m in received) == [
        "Order #21 confirmed",
        "Order #22 confirmed",
        "Order #23 confirmed",
    ]
    assert status == 200 and len(sent) == 3


@pytest.mark.parametrize(
    "query", ["offset=100000000000000000000", "limit=100000000000000000000", "offset=-1"]
)
async def test_an_out_of_range_page_is_a_json_422(
    databases: DatabaseFactory, tmp_path: Path, query: str
) -> None:
    async with (
        databases("notifications") as db_url,
        serving(build_app(settings_for(db_url, tmp_path))) as base,
    ):
        api = Api(base)
        status, body = await api.get(f"/notifications?{query}")
        await api.close()
    assert status == 422 and body["error"] == "Invalid request"
