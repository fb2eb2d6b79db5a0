"""The notifications service consuming order.created from a real broker."""

import asyncio
import email
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from microshop.chassis.bus import connect_bus
from microshop.contracts.events import OrderCreated
from microshop.services.notifications.handlers import HANDLERS
from microshop.services.notifications.main import NotificationsSettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import free_port, serving
from tests.support.bus import eventually, publish, remove_bus_objects, unique_prefix
from tests.support.http import Api
from tests.support.servers import RABBITMQ, embedded_nats, require_server


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


@pytest.fixture
async def notifications(
    broker_url: str, databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[tuple[Api, str, str]]:
    prefix = unique_prefix()
    async with databases("notifications") as db_url:
        settings = NotificationsSettings(
            database_url=db_url,
            data_dir=tmp_path,
            open_mode=True,
            broker_url=broker_url,
            bus_prefix=prefix,
        )
        async with serving(build_app(settings)) as base:
            api = Api(base)
            # RabbitMQ drops what no queue is bound for yet: wait for the subscription.
            for _ in range(100):
                if (await api.get("/health/ready"))[1]["broker"] == "ok":
                    break
                await asyncio.sleep(0.05)
            yield api, broker_url, prefix
            await api.close()
    await remove_bus_objects(broker_url, prefix, [f"{prefix}.notifications"])


def mail_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "mail").glob("*.eml"))


async def test_an_order_gets_exactly_one_confirmation_email_whatever_is_redelivered(
    notifications: tuple[Api, str, str], tmp_path: Path
) -> None:
    api, url, prefix = notifications
    producer = connect_bus(url, prefix)
    envelope = an_order().envelope()
    body = envelope.model_dump_json().encode()
    # The same event three times (a relay that crashed before marking it sent), then
    # the same fact under a new event id (a producer that recorded it twice).
    for _ in range(3):
        await publish(producer, body, "order.created", str(envelope.id))
    again = an_order().envelope()
    await publish(producer, again.model_dump_json().encode(), "order.created", str(again.id))
    await producer.close()

    await eventually(lambda: len(mail_files(tmp_path)) == 1)
    status, sent = await api.get("/notifications")
    assert status == 200 and len(sent) == 1
    message = email.message_from_bytes(mail_files(tmp_path)[0].read_bytes())
    assert message["To"] == "john@example.com"
    assert message["Subject"] == "Order #42 confirmed"
    assert "1999.98" in message.get_payload()
    assert sent[0]["recipient"] == "john@example.com" and sent[0]["transport"] == "file"


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
                producer = connect_bus(url, prefix)
                envelope = an_order(7).envelope()
                await publish(producer, 
                    envelope.model_dump_json().encode(), "order.created", str(envelope.id)
                )
                await producer.close()
                await eventually(lambda: len(received) == 1)
                status, sent = await api.get("/notifications")
                await api.close()
    finally:
        controller.stop()
    assert received[0]["To"] == "john@example.com"
    assert received[0]["Subject"] == "Order #7 confirmed"
    assert received[0]["Message-ID"] == "<order-7-order.created@microshop.local>"
    assert (status, sent[0]["transport"]) == (200, "smtp")
    assert not (tmp_path / "mail").exists(), "no .eml when SMTP is configured"
