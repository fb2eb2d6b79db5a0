"""The CQRS read model, fed by real events over the embedded NATS."""

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from microshop.chassis.bus import connect_bus
from microshop.contracts.events import (
    Event,
    OrderApproved,
    OrderCreated,
    OrderItem,
    PaymentSucceeded,
    ShipmentCreated,
)
from microshop.services.order_history.main import OrderHistorySettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import serving
from tests.support.bus import publish, unique_prefix
from tests.support.http import Api
from tests.support.servers import embedded_nats

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def order_events(order_id: int) -> list[tuple[Event, datetime]]:
    who = {"user_id": 7, "user_name": "Ada", "user_email": "ada@example.com"}
    item = OrderItem(product_id=1, product_name="Laptop", unit_price=Decimal("999.99"), quantity=2)
    return [
        (
            OrderCreated(
                id=order_id,
                product_id=1,
                product_name="Laptop",
                unit_price=Decimal("999.99"),
                quantity=2,
                total=Decimal("1999.98"),
                status="pending",
                created_at=T0,
                items=[item],
                **who,
            ),
            T0,
        ),
        (
            PaymentSucceeded(
                id=3, order_id=order_id, user_id=7, amount=Decimal("1999.98"), status="succeeded"
            ),
            T0 + timedelta(seconds=1),
        ),
        (
            ShipmentCreated(
                id=4, order_id=order_id, tracking_number="MS0000000001", status="created"
            ),
            T0 + timedelta(seconds=2),
        ),
        (
            OrderApproved(id=order_id, total=Decimal("1999.98"), status="approved", **who),
            T0 + timedelta(seconds=3),
        ),
    ]


@pytest.fixture
async def history(
    databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[tuple[Api, str, str]]:
    prefix = unique_prefix()
    async with (
        embedded_nats(str(tmp_path / "nats")) as url,
        databases("order_history") as db_url,
    ):
        settings = OrderHistorySettings(
            database_url=db_url,
            data_dir=tmp_path,
            open_mode=True,
            broker_url=url,
            bus_prefix=prefix,
        )
        async with serving(build_app(settings)) as base:
            api = Api(base)
            yield api, url, prefix
            await api.close()


async def publish(url: str, prefix: str, events: list[tuple[Event, datetime]]) -> None:
    bus = connect_bus(url, prefix)
    for fact, at in events:
        envelope = fact.envelope().model_copy(update={"occurred_at": at})
        await publish(bus, envelope.model_dump_json().encode(), fact.TYPE, str(envelope.id))
    await bus.close()


async def test_events_in_any_order_fold_into_the_same_view(history: tuple[Api, str, str]) -> None:
    api, url, prefix = history
    events = order_events(1) + order_events(1)  # every event twice
    random.Random(4).shuffle(events)
    await publish(url, prefix, events)

    for _ in range(200):  # up to 10 s for every consumer to catch up
        status, view = await api.get("/order-history/1")
        complete = status == 200 and None not in (view["tracking_number"], view["user_name"])
        if complete and view["status"] == "approved" and view["payment_status"]:
            break
        await asyncio.sleep(0.05)
    assert view["status"] == "approved" and view["reason"] is None
    assert view["payment_status"] == "succeeded" and view["shipment_status"] == "created"
    assert (view["user_email"], view["total"]) == ("ada@example.com", 1999.98)
    assert view["items"] == [
        {"product_id": 1, "product_name": "Laptop", "unit_price": 999.99, "quantity": 2}
    ]
    status, listed = await api.get("/order-history")
    assert status == 200 and [v["order_id"] for v in listed] == [1]


async def test_a_missing_order_view_is_a_json_404(history: tuple[Api, str, str]) -> None:
    assert await history[0].get("/order-history/99") == (404, {"error": "Order not found"})
