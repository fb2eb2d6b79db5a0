"""A relay killed after publishing but before marking its events sent: the restart
publishes them again (a duplicate delivery on RabbitMQ, which has no dedupe
window), and the notifications' inbox still sends a single e-mail."""

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from microshop.services.catalog.main import CatalogSettings
from microshop.services.catalog.main import build_app as build_catalog
from microshop.services.notifications.main import NotificationsSettings
from microshop.services.notifications.main import build_app as build_notifications
from microshop.services.payments.main import PaymentsSettings
from microshop.services.payments.main import build_app as build_payments
from microshop.services.shipping.main import ShippingSettings
from microshop.services.shipping.main import build_app as build_shipping
from microshop.services.users.main import UsersSettings
from microshop.services.users.main import build_app as build_users
from tests.support.asgi import serving
from tests.support.bus import remove_bus_objects, unique_prefix
from tests.support.http import Api
from tests.support.process import ServiceProcess, peers_env
from tests.support.servers import RABBITMQ, require_server
from tests.support.waiting import eventually

RABBIT = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
async def shop_without_orders(tmp_path: Path) -> AsyncIterator[tuple[dict[str, str], object, str]]:
    require_server(RABBITMQ)
    prefix = unique_prefix()
    common = {"data_dir": tmp_path, "open_mode": True}
    async with AsyncExitStack() as stack:
        peers: dict[str, str] = {}
        for name, build, settings in (
            ("users", build_users, UsersSettings(**common)),
            ("catalog", build_catalog, CatalogSettings(**common)),
            ("payments", build_payments, PaymentsSettings(**common)),
            ("shipping", build_shipping, ShippingSettings(**common)),
        ):
            peers[name] = await stack.enter_async_context(serving(build(settings)))
        notifications = build_notifications(
            NotificationsSettings(broker_url=RABBIT, bus_prefix=prefix, **common)
        )
        await stack.enter_async_context(serving(notifications))
        await eventually(lambda: notifications.state.events.connected)
        yield peers, notifications, prefix
    await remove_bus_objects(RABBIT, prefix, [f"{prefix}.notifications"])


@pytest.mark.timeout(90)
async def test_a_relay_killed_before_marking_sent_causes_a_duplicate_and_still_one_email(
    shop_without_orders: tuple[dict[str, str], object, str], tmp_path: Path
) -> None:
    peers, notifications, prefix = shop_without_orders
    orders = ServiceProcess(
        "orders",
        {
            "MICROSHOP_DATA_DIR": str(tmp_path),
            "MICROSHOP_OPEN": "1",
            "MICROSHOP_PEERS": peers_env(peers),
            "MICROSHOP_BROKER_URL": RABBIT,
            "MICROSHOP_BUS_PREFIX": prefix,
            "MICROSHOP_ORDERS_SAGA_SWEEP_EVERY": "0.2",
        },
        tmp_path / "orders.log",
    )
    users = Api(peers["users"])
    _, john = await users.post("/users", {"name": "John Doe", "email": "john@example.com"})
    await users.close()

    await orders.start(MICROSHOP_CRASH_AT="outbox.published")
    api = Api(orders.url)
    status, order = await api.post(
        "/orders", {"user_id": john["id"], "product_id": 1, "quantity": 1}
    )
    assert status == 201
    assert await orders.wait_killed() == -signal.SIGKILL
    await api.close()

    await orders.start()  # the relay finds order.created unsent and publishes it again
    inbox = notifications.state.events.inbox  # type: ignore[attr-defined]
    mail = tmp_path / "mail"
    confirmation = mail / f"order-{order['id']}-order.created.eml"
    approval = mail / f"order-{order['id']}-order.approved.eml"
    try:
        await eventually(lambda: confirmation.exists() and approval.exists(), timeout=30)
        await eventually(lambda: inbox.duplicates >= 1, timeout=10)
        await asyncio.sleep(
            0.5
        )  # on purpose: a second e-mail for the duplicate would be written now
        assert sorted(p.name for p in mail.glob("*.eml")) == sorted(
            [confirmation.name, approval.name]
        )
    finally:
        await orders.stop()
