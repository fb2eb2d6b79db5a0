"""The order saga across the real services: for each step, a failure there runs
exactly the compensations of the steps before it, in reverse (read from the saga's
step log), and leaves stock, payment and shipment consistent. Orders runs on
SQLite and PostgreSQL; its peers stay on SQLite unless stock itself is the point.
Crashes of the orders process are in test_saga_crashes.py."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from microshop.chassis.data import Query
from microshop.chassis.event_tables import outbox
from tests.integration.conftest import DatabaseFactory
from tests.support.shop import Shop, running_shop
from tests.support.waiting import eventually

MOUSE = 2  # 29.99, 50 in stock on a fresh catalog
MOUSE_STOCK = 50
DECLINED_CARD = "4000000000000002"
WAIT = {"Prefer": "wait=10"}

APPROVED_LOG = [
    ("order", "created"),
    ("payment", "started"),
    ("payment", "succeeded"),
    ("inventory", "started"),
    ("inventory", "succeeded"),
    ("shipping", "started"),
    ("shipping", "succeeded"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The orders database's backend."""
    return str(request.param)


@pytest.fixture
async def shop(backend: str, databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Shop]:
    async with running_shop(
        backend, databases, tmp_path, open_mode=True, orders_backend_only=True
    ) as shop:
        yield shop


# --- reading the state of every service -------------------------------------------------


def log_of(order: dict[str, Any]) -> list[tuple[str, str]]:
    return [(entry["step"], entry["event"]) for entry in order["saga"]["steps"]]


def compensations(order: dict[str, Any]) -> list[str]:
    return [entry["step"] for entry in order["saga"]["steps"] if entry["event"] == "compensated"]


async def payments_of(shop: Shop, order_id: int) -> list[str]:
    status, payments = await shop.payments.get(f"/internal/payments?order_id={order_id}")
    assert status == 200, payments
    return [payment["status"] for payment in payments]


async def shipment_of(shop: Shop, order_id: int) -> dict[str, Any] | None:
    status, shipment = await shop.shipping.get(f"/internal/shipments?order_id={order_id}")
    assert status in (200, 404), shipment
    return dict(shipment) if status == 200 else None


async def outbox_events(shop: Shop, order_id: int) -> list[str]:
    """The event types the orders service wrote for this order, in order."""
    db = shop.services["orders"].app.state.db  # type: ignore[union-attr]
    query = Query(
        select(outbox.c.type)
        .where(outbox.c.aggregate == f"orders:{order_id}")
        .order_by(outbox.c.seq)
    )
    return [row["type"] for row in await db.fetch_all(query)]


async def customer(shop: Shop, name: str = "Jane") -> int:
    status, user = await shop.users.post(
        "/users", {"name": name, "email": f"{name.lower()}@example.com"}
    )
    assert status == 201, user
    return int(user["id"])


async def place(shop: Shop, user_id: int, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    body = {"user_id": user_id, "product_id": MOUSE, "quantity": quantity, **extra}
    status, order = await shop.orders.post("/orders", body)
    assert status == 201, order
    return dict(order)


async def test_waiting_on_a_replayed_order_keeps_nothing_once_its_saga_is_done(
    shop: Shop,
) -> None:
    body = {"user_id": await customer(shop), "product_id": MOUSE, "quantity": 1}
    for _ in range(3):  # a client retrying with its key, each time asking to wait
        headers = {**WAIT, "Idempotency-Key": "replayed-and-waited"}
        status, order = await shop.orders.post("/orders", body, headers=headers)
        assert (status, order["saga"]["phase"]) == (201, "done"), order
    # Nothing is left per order for the waits on the replays, which found it done.
    orchestrator = shop.services["orders"].app.state.orchestrator  # type: ignore[union-attr]
    assert dict(orchestrator._finished) == {}


# --- one outcome per step -------------------------------------------------------------


async def test_an_approved_order_pays_once_takes_stock_and_creates_one_shipment(
    shop: Shop,
) -> None:
    order = await shop.final((await place(shop, await customer(shop), quantity=2))["id"])

    assert (order["status"], order["reason"]) == ("approved", None)
    assert order["saga"]["outcome"] == "approved"
    assert log_of(order) == APPROVED_LOG
    assert await payments_of(shop, order["id"]) == ["succeeded"]
    assert await shop.stock(MOUSE) == MOUSE_STOCK - 2
    shipment = await shipment_of(shop, order["id"])
    assert shipment is not None and shipment["status"] == "created"
    assert await outbox_events(shop, order["id"]) == ["order.created", "order.approved"]


async def test_a_declined_card_rejects_the_order_with_nothing_to_compensate(shop: Shop) -> None:
    placed = await place(shop, await customer(shop), payment={"card_number": DECLINED_CARD})
    order = await shop.final(placed["id"])

    assert (order["status"], order["reason"]) == ("rejected", "Card declined")
    assert log_of(order) == [("order", "created"), ("payment", "started"), ("payment", "failed")]
    assert await payments_of(shop, order["id"]) == ["declined"]
    assert await shop.stock(MOUSE) == MOUSE_STOCK
    assert await shipment_of(shop, order["id"]) is None
    assert await outbox_events(shop, order["id"]) == ["order.created", "order.rejected"]


async def test_an_order_beyond_the_stock_refunds_the_payment_and_nothing_else(shop: Shop) -> None:
    order = await shop.final((await place(shop, await customer(shop), MOUSE_STOCK + 1))["id"])

    assert (order["status"], order["reason"]) == ("rejected", "Out of stock")
    assert log_of(order) == [
        *APPROVED_LOG[:4],
        ("inventory", "failed"),
        ("payment", "compensating"),
        ("payment", "compensated"),
    ]
    assert compensations(order) == ["payment"]
    assert await payments_of(shop, order["id"]) == ["refunded"]
    assert await shop.stock(MOUSE) == MOUSE_STOCK
    assert await shipment_of(shop, order["id"]) is None


async def test_a_refused_shipment_restores_the_stock_then_refunds_the_payment(
    backend: str, databases: DatabaseFactory, tmp_path: Path
) -> None:
    async with running_shop(
        backend,
        databases,
        tmp_path,
        open_mode=True,
        orders_backend_only=True,
        shipping_settings={"refuse_all": True},
    ) as shop:
        order = await shop.final((await place(shop, await customer(shop), quantity=3))["id"])

        assert (order["status"], order["reason"]) == ("rejected", "Shipping refused")
        assert log_of(order)[5:] == [
            ("shipping", "started"),
            ("shipping", "failed"),
            ("inventory", "compensating"),
            ("inventory", "compensated"),
            ("payment", "compensating"),
            ("payment", "compensated"),
        ]
        assert compensations(order) == ["inventory", "payment"]
        assert await shop.stock(MOUSE) == MOUSE_STOCK
        assert await payments_of(shop, order["id"]) == ["refunded"]
        assert await shipment_of(shop, order["id"]) is None


@pytest.mark.timeout(60)
async def test_a_step_whose_peer_is_down_compensates_itself_too_once_the_peer_is_back(
    backend: str, databases: DatabaseFactory, tmp_path: Path
) -> None:
    # A short breaker reset: the compensation must reach shipping soon after it returns.
    async with running_shop(
        backend,
        databases,
        tmp_path,
        open_mode=True,
        orders_backend_only=True,
        breaker_reset_seconds=0.5,
    ) as shop:
        shipping = shop.services["shipping"]
        await shipping.stop()
        placed = await place(shop, await customer(shop))

        # No answer after bounded retries: the outcome is unknown, so shipping's own
        # compensation runs first, and keeps trying while shipping stays down.
        async def shipping_gave_up() -> dict[str, Any] | None:
            _, order = await shop.admin.get(f"/orders/{placed['id']}")
            return order if ("shipping", "compensating") in log_of(order) else None

        order = await eventually(
            shipping_gave_up, timeout=10, message="the shipping step never gave up"
        )
        failed = [e for e in order["saga"]["steps"] if e["event"] == "failed"]
        assert [e["step"] for e in failed] == ["shipping"]
        assert failed[0]["detail"].startswith("outcome unknown")
        await asyncio.sleep(0.5)  # on purpose: while shipping is down, nothing may move on
        _, order = await shop.admin.get(f"/orders/{placed['id']}")
        assert (order["status"], order["saga"]["phase"]) == ("pending", "compensating")
        assert await shop.stock(MOUSE) == MOUSE_STOCK - 1  # not restored before its turn

        await shipping.start()
        order = await shop.final(placed["id"], timeout=30)

        assert (order["status"], order["reason"]) == ("rejected", "shipping unavailable")
        assert compensations(order) == ["shipping", "inventory", "payment"]
        assert log_of(order).count(("shipping", "started")) == 1
        assert await shop.stock(MOUSE) == MOUSE_STOCK
        assert await payments_of(shop, order["id"]) == ["refunded"]
        # Only the cancellation's tombstone, so a late create would change nothing.
        shipment = await shipment_of(shop, order["id"])
        assert shipment is None or (shipment["status"], shipment["tracking_number"]) == (
            "cancelled",
            None,
        )


# --- cancellation ---------------------------------------------------------------------


async def test_cancelling_an_approved_order_undoes_shipping_inventory_and_payment_in_reverse(
    shop: Shop,
) -> None:
    placed = await place(shop, await customer(shop), quantity=2)
    assert (await shop.final(placed["id"]))["status"] == "approved"

    status, order = await shop.orders.post(f"/orders/{placed['id']}/cancel", headers=WAIT)

    assert (status, order["status"], order["reason"]) == (200, "cancelled", "Cancelled by request")
    assert log_of(order)[len(APPROVED_LOG) :] == [
        ("order", "cancel_requested"),
        ("shipping", "compensating"),
        ("shipping", "compensated"),
        ("inventory", "compensating"),
        ("inventory", "compensated"),
        ("payment", "compensating"),
        ("payment", "compensated"),
    ]
    assert compensations(order) == ["shipping", "inventory", "payment"]
    assert await shop.stock(MOUSE) == MOUSE_STOCK
    assert await payments_of(shop, order["id"]) == ["refunded"]
    shipment = await shipment_of(shop, order["id"])
    assert shipment is not None and shipment["status"] == "cancelled"
    assert await outbox_events(shop, order["id"]) == [
        "order.created",
        "order.approved",
        "order.cancelled",
    ]
    # Asked twice: the same answer, and nothing is undone twice.
    status, again = await shop.orders.post(f"/orders/{placed['id']}/cancel", headers=WAIT)
    assert (status, again["status"]) == (200, "cancelled")
    assert compensations(again) == compensations(order)


@pytest.mark.timeout(60)
async def test_a_cancel_that_lands_anywhere_in_the_saga_ends_cancelled_and_consistent(
    shop: Shop,
) -> None:
    user_id = await customer(shop)
    # Each cancel lands a little later, to fall between different steps (or after).
    delays = [0.0, 0.005, 0.01, 0.02, 0.04, 0.08]

    async def place_then_cancel(delay: float) -> dict[str, Any]:
        placed = await place(shop, user_id)
        await asyncio.sleep(delay)  # the point: the cancel lands at another moment each time
        status, order = await shop.orders.post(f"/orders/{placed['id']}/cancel", headers=WAIT)
        assert (status, order["status"]) == (200, "cancelled"), str(order["saga"])
        return dict(order)

    orders = [await place_then_cancel(delay) for delay in delays]

    for order in orders:
        done = [step for step, event in log_of(order) if event == "succeeded"]
        # Exactly the steps that had completed are undone, last first.
        assert compensations(order) == done[::-1], log_of(order)
        assert await payments_of(shop, order["id"]) in ([], ["refunded"])
        shipment = await shipment_of(shop, order["id"])
        assert shipment is None or shipment["status"] == "cancelled"
    assert await shop.stock(MOUSE) == MOUSE_STOCK


async def test_an_order_whose_parcel_has_shipped_cannot_be_cancelled(shop: Shop) -> None:
    placed = await place(shop, await customer(shop))
    assert (await shop.final(placed["id"]))["status"] == "approved"
    shipment = await shipment_of(shop, placed["id"])
    assert shipment is not None
    status, shipped = await shop.shipping.post(f"/shipments/{shipment['id']}/advance")
    assert (status, shipped["status"]) == (200, "shipped")

    status, error = await shop.orders.post(f"/orders/{placed['id']}/cancel", headers=WAIT)

    assert (status, error) == (409, {"error": "Order already shipped"})
    order = await shop.final(placed["id"])
    assert (order["status"], log_of(order)) == ("approved", APPROVED_LOG)
    assert await payments_of(shop, placed["id"]) == ["succeeded"]
    assert await shop.stock(MOUSE) == MOUSE_STOCK - 1


# --- contention -----------------------------------------------------------------------


@pytest.mark.timeout(90)
async def test_fifty_concurrent_orders_for_ten_in_stock_approve_exactly_ten(
    backend: str, databases: DatabaseFactory, tmp_path: Path
) -> None:
    # Every service on the backend: the catalog's stock is what is contended. All
    # five services share this test's one event loop, so 50 sagas at once can outlast
    # the 3 s call timeout on a busy machine: a timeout is not what is tested here.
    async with running_shop(
        backend, databases, tmp_path, open_mode=True, orders_backend_only=False, http_timeout=15.0
    ) as shop:
        status, product = await shop.catalog.post(
            "/products", {"name": "Limited edition", "price": 49.5, "stock": 10}
        )
        assert status == 201, product
        user_id = await customer(shop)
        seen_stock: list[int] = []
        placing = True

        async def watch_stock() -> None:
            while placing and len(seen_stock) < 2000:
                seen_stock.append(await shop.stock(product["id"]))
                await asyncio.sleep(0.01)  # a sample every 10 ms while the orders go in

        watcher = asyncio.create_task(watch_stock())
        body = {"user_id": user_id, "product_id": product["id"], "quantity": 1}
        replies = await asyncio.gather(*(shop.orders.post("/orders", body) for _ in range(50)))
        assert [status for status, _ in replies] == [201] * 50
        orders = [await shop.final(order["id"], timeout=60) for _, order in replies]
        placing = False
        await watcher

        outcomes = [(order["status"], order["reason"]) for order in orders]
        assert outcomes.count(("approved", None)) == 10
        assert outcomes.count(("rejected", "Out of stock")) == 40
        assert await shop.stock(product["id"]) == 0
        assert seen_stock and min(seen_stock) >= 0
        payments = [await payments_of(shop, order["id"]) for order in orders]
        assert sorted(p for (p,) in payments) == ["refunded"] * 40 + ["succeeded"] * 10
        for order, (payment,) in zip(orders, payments, strict=True):
            assert (payment == "succeeded") == (order["status"] == "approved")
