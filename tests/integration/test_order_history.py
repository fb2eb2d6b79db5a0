"""The CQRS read model, fed by real events over the embedded NATS."""

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from microshop.chassis.bus import Outgoing, connect_bus
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
from tests.support.db import fetch_rows
from tests.support.http import Api
from tests.support.secure import SecureService, beside_users
from tests.support.servers import embedded_nats
from tests.support.waiting import eventually

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ADA = {"user_id": 7, "user_name": "Ada", "user_email": "ada@example.com"}

Facts = list[tuple[Event, datetime]]


@dataclass
class Broker:
    url: str
    prefix: str


def order_events(order_id: int, who: dict[str, Any] = ADA) -> Facts:
    """The four facts of an approved order, each stamped when it happened."""
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
                id=3,
                order_id=order_id,
                user_id=who["user_id"],
                amount=Decimal("1999.98"),
                status="succeeded",
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


def outgoing(facts: Facts) -> list[Outgoing]:
    """Each fact in a new envelope (a new event id) stamped with its time."""
    messages = []
    for fact, at in facts:
        envelope = fact.envelope().model_copy(update={"occurred_at": at})
        messages.append(Outgoing(envelope.model_dump_json().encode(), fact.TYPE, str(envelope.id)))
    return messages


async def publish_one_by_one(broker: Broker, facts: Facts) -> None:
    bus = connect_bus(broker.url, broker.prefix)
    for message in outgoing(facts):
        await publish(bus, message.body, message.type, message.event_id)
    await bus.close()


async def publish_at_once(broker: Broker, facts: Facts) -> None:
    bus = connect_bus(broker.url, broker.prefix)
    messages = outgoing(facts)
    assert await bus.publish(messages) == [True] * len(messages)
    await bus.close()


async def has_handled(database_url: str, events: int) -> bool:
    """Whether the read model's inbox holds `events` event ids."""
    rows = await fetch_rows(database_url, "SELECT count(*) AS n FROM inbox")
    return int(rows[0]["n"]) == events


def is_complete(view: dict[str, Any]) -> bool:
    """Every fact of `order_events` is in the view."""
    return (
        view["status"] == "approved"
        and view["payment_status"] == "succeeded"
        and view["tracking_number"] is not None
        and view["user_name"] is not None
    )


async def views_complete(api: Api, order_ids: list[int]) -> bool:
    for order_id in order_ids:
        status, view = await api.get(f"/order-history/{order_id}")
        if status != 200 or not is_complete(view):
            return False
    return True


@dataclass
class Stack:
    """A broker and a database for the read model, which is not started yet."""

    broker: Broker
    database_url: str
    tmp_path: Path

    @asynccontextmanager
    async def history(self) -> AsyncIterator[Api]:
        settings = OrderHistorySettings(
            database_url=self.database_url,
            data_dir=self.tmp_path,
            open_mode=True,
            broker_url=self.broker.url,
            bus_prefix=self.broker.prefix,
        )
        async with serving(build_app(settings)) as base:
            api = Api(base)
            try:
                yield api
            finally:
                await api.close()


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with embedded_nats(str(tmp_path / "nats")) as url:
        yield Broker(url, unique_prefix())


@pytest.fixture
async def stack(broker: Broker, databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Stack]:
    async with databases("order_history") as db_url:
        yield Stack(broker, db_url, tmp_path)


@pytest.fixture
async def history(stack: Stack) -> AsyncIterator[Api]:
    async with stack.history() as api:
        yield api


async def test_events_in_any_order_fold_into_the_same_view(stack: Stack, history: Api) -> None:
    events = order_events(1) + order_events(1)  # every fact twice, under two event ids
    random.Random(4).shuffle(events)
    await publish_one_by_one(stack.broker, events)

    await eventually(lambda: has_handled(stack.database_url, 8))
    status, view = await history.get("/order-history/1")
    assert status == 200
    assert view["status"] == "approved" and view["reason"] is None
    assert view["payment_status"] == "succeeded" and view["shipment_status"] == "created"
    assert (view["user_email"], view["total"]) == ("ada@example.com", 1999.98)
    assert view["items"] == [
        {"product_id": 1, "product_name": "Laptop", "unit_price": 999.99, "quantity": 2}
    ]
    assert view["placed_at"] == "2026-11-23T12:00:00Z"
    # The newest fact's time, not the last one to arrive.
    assert view["updated_at"] == "2026-11-23T12:00:03Z"
    status, listed = await history.get("/order-history")
    assert status == 200 and [v["order_id"] for v in listed] == [1]


async def test_old_facts_arriving_again_change_nothing(stack: Stack, history: Api) -> None:
    await publish_one_by_one(stack.broker, order_events(1))
    await eventually(lambda: views_complete(history, [1]))
    _, before = await history.get("/order-history/1")

    # The same facts again, under new event ids, newest first.
    await publish_one_by_one(stack.broker, order_events(1)[::-1])

    await eventually(lambda: has_handled(stack.database_url, 8))
    assert await history.get("/order-history/1") == (200, before)


async def test_a_batch_of_several_orders_events_lands_in_every_view(stack: Stack) -> None:
    # Published before the read model starts, so its consumer finds them all ready:
    # one batch, one transaction, with several events of each order in it.
    order_ids = list(range(1, 13))
    events = [fact for order_id in order_ids for fact in order_events(order_id)]
    random.Random(7).shuffle(events)
    await publish_at_once(stack.broker, events)

    async with stack.history() as api:
        await eventually(lambda: views_complete(api, order_ids))
        status, listed = await api.get("/order-history")
    assert status == 200
    assert [v["order_id"] for v in listed] == order_ids[::-1]
    assert all(is_complete(view) for view in listed)


async def test_a_list_is_at_most_100_views_long(stack: Stack, history: Api) -> None:
    placed = [order_events(order_id)[0] for order_id in range(1, 106)]
    await publish_at_once(stack.broker, placed)

    async def all_there() -> bool:
        status, rest = await history.get("/order-history?offset=100")
        return status == 200 and len(rest) == 5

    await eventually(all_there)
    status, first = await history.get("/order-history?limit=1000")
    assert status == 200 and len(first) == 100
    assert (first[0]["order_id"], first[-1]["order_id"]) == (105, 6)
    status, rest = await history.get("/order-history?offset=100&limit=3")
    assert status == 200 and [v["order_id"] for v in rest] == [5, 4, 3]


async def test_a_missing_order_view_is_a_json_404(history: Api) -> None:
    assert await history.get("/order-history/99") == (404, {"error": "Order not found"})


@pytest.mark.parametrize(
    "path",
    [
        "/order-history?offset=100000000000000000000",
        "/order-history?limit=100000000000000000000",
        "/order-history?offset=-1",
        "/order-history?limit=0",
        "/order-history/9223372036854775808",
        "/order-history/0",
    ],
)
async def test_an_out_of_range_page_or_id_is_a_json_422(history: Api, path: str) -> None:
    status, body = await history.get(path)
    assert status == 422 and body["error"] == "Invalid request"


@pytest.fixture
async def shop(
    broker: Broker, databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[SecureService]:
    """The read model in the default (secure) mode, beside the real users service."""
    settings = partial(OrderHistorySettings, broker_url=broker.url, bus_prefix=broker.prefix)
    async with beside_users(databases, tmp_path, "order_history", build_app, settings) as secure:
        yield secure


async def test_a_customer_sees_only_their_own_orders_and_an_admin_all(
    broker: Broker, shop: SecureService
) -> None:
    ada_id, ada = await shop.customer("Ada")
    bob_id, bob = await shop.customer("Bob")
    ada_who = {"user_id": ada_id, "user_name": "Ada", "user_email": "ada@example.com"}
    bob_who = {"user_id": bob_id, "user_name": "Bob", "user_email": "bob@example.com"}
    await publish_at_once(broker, order_events(1, ada_who) + order_events(2, bob_who))
    await eventually(lambda: views_complete(shop.admin, [1, 2]))

    status, listed = await shop.admin.get("/order-history")
    assert status == 200 and [v["order_id"] for v in listed] == [2, 1]
    status, listed = await ada.get("/order-history")
    assert status == 200 and [v["order_id"] for v in listed] == [1]
    assert (await ada.get("/order-history/1"))[0] == 200
    # Another customer's order looks exactly like a missing one.
    assert await ada.get("/order-history/2") == (404, {"error": "Order not found"})
    assert await bob.get("/order-history/1") == (404, {"error": "Order not found"})
    assert (await shop.service.get("/order-history"))[0] == 401
