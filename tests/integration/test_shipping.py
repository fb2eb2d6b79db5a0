"""The shipping service over real HTTP on SQLite and PostgreSQL: the order saga's
shipments and cancellations (internal API), and their public view and progress."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from microshop.services.shipping import service
from microshop.services.shipping.domain import TRACKING_NUMBER
from microshop.services.shipping.main import ShippingSettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import serving
from tests.support.db import fetch_rows, outbox_events
from tests.support.http import Api
from tests.support.secure import SecureService, beside_users


@pytest.fixture
async def database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    async with databases("shipping") as url:
        yield url


@pytest.fixture
async def shipping(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = ShippingSettings(database_url=database_url, data_dir=tmp_path, open_mode=True)
    async with serving(build_app(settings)) as base:
        api = Api(base)
        yield api
        await api.close()


async def ship(
    api: Api, order_id: int, *, user_id: int | None = None, address: str | None = None
) -> tuple[int, Any]:
    body: dict[str, Any] = {"order_id": order_id, "user_id": user_id}
    if address is not None:
        body["address"] = address
    return await api.post("/internal/shipments", body)


async def cancel(api: Api, order_id: int) -> tuple[int, Any]:
    return await api.post("/internal/shipments/cancel", {"order_id": order_id})


async def shipment_rows(database_url: str) -> list[dict[str, Any]]:
    return await fetch_rows(database_url, "SELECT * FROM shipments")


def tracking_numbers_drawn(monkeypatch: pytest.MonkeyPatch, numbers: Iterator[str]) -> None:
    """Makes the service draw `numbers`, in order, as its tracking numbers."""
    monkeypatch.setattr(service, "new_tracking_number", lambda: next(numbers))


async def test_a_shipment_gets_a_tracking_number_and_a_created_event(
    shipping: Api, database_url: str
) -> None:
    status, shipment = await ship(shipping, 1, user_id=3, address="1 Main Street")
    assert status == 201
    assert shipment == {
        "id": shipment["id"],
        "order_id": 1,
        "user_id": 3,
        "address": "1 Main Street",
        "tracking_number": shipment["tracking_number"],
        "status": "created",
        "created_at": shipment["created_at"],
        "updated_at": shipment["updated_at"],
    }
    assert TRACKING_NUMBER.fullmatch(shipment["tracking_number"])
    assert await outbox_events(database_url) == [
        (
            "shipment.created",
            {
                "id": shipment["id"],
                "order_id": 1,
                "tracking_number": shipment["tracking_number"],
                "status": "created",
            },
        )
    ]


async def test_a_repeated_create_returns_the_same_shipment_and_writes_no_event(
    shipping: Api, database_url: str
) -> None:
    _, first = await ship(shipping, 1)
    assert [await ship(shipping, 1) for _ in range(3)] == [(200, first)] * 3
    assert len(await outbox_events(database_url)) == 1


async def test_concurrent_creates_for_one_order_make_one_shipment(
    shipping: Api, database_url: str
) -> None:
    replies = await asyncio.gather(*(ship(shipping, 1) for _ in range(5)))
    assert sorted(status for status, _ in replies) == [200, 200, 200, 200, 201]
    assert len({body["id"] for _, body in replies}) == 1
    assert len(await outbox_events(database_url)) == 1


async def test_a_tracking_number_drawn_twice_is_drawn_again(
    shipping: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracking_numbers_drawn(monkeypatch, iter(["MS0000000001", "MS0000000001", "MS0000000002"]))
    _, first = await ship(shipping, 1)
    status, second = await ship(shipping, 2)
    assert (status, second["order_id"], second["tracking_number"]) == (201, 2, "MS0000000002")
    assert first["tracking_number"] == "MS0000000001"
    assert [data["tracking_number"] for _, data in await outbox_events(database_url)] == [
        "MS0000000001",
        "MS0000000002",
    ]


async def test_a_tracking_number_that_keeps_colliding_fails_and_writes_nothing(
    shipping: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracking_numbers_drawn(monkeypatch, iter(["MS0000000001"] * 4))
    await ship(shipping, 1)
    assert await ship(shipping, 2) == (500, {"error": "Internal server error"})
    assert [row["order_id"] for row in await shipment_rows(database_url)] == [1]
    assert len(await outbox_events(database_url)) == 1


async def test_the_internal_lookup_finds_the_orders_shipment_or_answers_404(
    shipping: Api,
) -> None:
    _, shipment = await ship(shipping, 4)
    assert await shipping.get("/internal/shipments?order_id=4") == (200, shipment)
    assert await shipping.get("/internal/shipments?order_id=5") == (
        404,
        {"error": "Shipment not found"},
    )


@pytest.mark.parametrize("address", ["Road to Nowhere 5", "NOWHERE", "nowhere land"])
async def test_an_address_in_nowhere_is_refused_and_nothing_is_written(
    shipping: Api, database_url: str, address: str
) -> None:
    assert await ship(shipping, 1, address=address) == (422, {"error": "Shipping refused"})
    assert (await shipping.get("/internal/shipments?order_id=1"))[0] == 404
    assert await shipment_rows(database_url) == []
    assert await outbox_events(database_url) == []


async def test_refuse_all_refuses_every_new_shipment_but_answers_existing_ones(
    database_url: str, tmp_path: Path
) -> None:
    open_settings = ShippingSettings(database_url=database_url, data_dir=tmp_path, open_mode=True)
    async with serving(build_app(open_settings)) as base:
        api = Api(base)
        _, existing = await ship(api, 1)
        await api.close()
    refusing = open_settings.model_copy(update={"refuse_all": True})
    async with serving(build_app(refusing)) as base:
        api = Api(base)
        refused = await ship(api, 2)
        repeat = await ship(api, 1)
        await api.close()
    assert refused == (422, {"error": "Shipping refused"})
    assert repeat == (200, existing)


def test_refuse_all_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSHOP_SHIPPING_REFUSE_ALL", "true")
    assert ShippingSettings().refuse_all is True


async def test_a_created_shipment_is_cancelled_once_however_often_it_is_asked(
    shipping: Api, database_url: str
) -> None:
    _, created = await ship(shipping, 1)
    replies = [await cancel(shipping, 1) for _ in range(3)]
    assert {status for status, _ in replies} == {200}
    cancelled = replies[0][1]
    assert (cancelled["id"], cancelled["status"]) == (created["id"], "cancelled")
    assert cancelled["tracking_number"] == created["tracking_number"]
    assert all(body == cancelled for _, body in replies)
    assert [kind for kind, _ in await outbox_events(database_url)] == [
        "shipment.created",
        "shipment.cancelled",
    ]


async def test_a_shipped_shipment_cannot_be_cancelled(shipping: Api) -> None:
    _, created = await ship(shipping, 1)
    await shipping.post(f"/shipments/{created['id']}/advance")
    assert await cancel(shipping, 1) == (409, {"error": "Shipment already shipped"})
    assert (await shipping.get(f"/shipments/{created['id']}"))[1]["status"] == "shipped"


async def test_a_cancel_before_the_create_leaves_a_tombstone_that_the_create_answers(
    shipping: Api, database_url: str
) -> None:
    status, tombstone = await cancel(shipping, 9)
    assert (status, tombstone["status"], tombstone["tracking_number"]) == (200, "cancelled", None)
    assert await cancel(shipping, 9) == (200, tombstone)
    assert await ship(shipping, 9) == (200, tombstone)
    assert await outbox_events(database_url) == []


async def test_concurrent_cancels_cancel_once_and_write_one_event(
    shipping: Api, database_url: str
) -> None:
    _, created = await ship(shipping, 1)
    replies = await asyncio.gather(*(cancel(shipping, 1) for _ in range(5)))
    assert {(status, body["id"], body["status"]) for status, body in replies} == {
        (200, created["id"], "cancelled")
    }
    assert [kind for kind, _ in await outbox_events(database_url)] == [
        "shipment.created",
        "shipment.cancelled",
    ]


async def test_a_cancel_racing_a_create_leaves_the_order_cancelled(
    shipping: Api, database_url: str
) -> None:
    created, cancelled = await asyncio.gather(ship(shipping, 1), cancel(shipping, 1))
    assert cancelled[0] == 200
    assert created[1]["id"] == cancelled[1]["id"]
    [row] = await shipment_rows(database_url)
    assert row["status"] == "cancelled"
    kinds = [kind for kind, _ in await outbox_events(database_url)]
    # The create either lost to the tombstone (no events) or won and was cancelled.
    assert kinds in ([], ["shipment.created", "shipment.cancelled"])


async def test_an_admin_advances_a_shipment_to_shipped_then_delivered(
    shipping: Api, database_url: str
) -> None:
    _, created = await ship(shipping, 1)
    path = f"/shipments/{created['id']}/advance"
    statuses = [(await shipping.post(path))[1]["status"] for _ in range(2)]
    assert statuses == ["shipped", "delivered"]
    assert await shipping.post(path) == (409, {"error": "A delivered shipment cannot advance"})
    assert [(kind, data["status"]) for kind, data in await outbox_events(database_url)] == [
        ("shipment.created", "created"),
        ("shipment.advanced", "shipped"),
        ("shipment.advanced", "delivered"),
    ]


async def test_a_cancelled_shipment_cannot_advance(shipping: Api) -> None:
    _, created = await ship(shipping, 1)
    await cancel(shipping, 1)
    assert await shipping.post(f"/shipments/{created['id']}/advance") == (
        409,
        {"error": "A cancelled shipment cannot advance"},
    )


async def test_advancing_a_missing_shipment_is_a_json_404(shipping: Api) -> None:
    assert await shipping.post("/shipments/999/advance") == (404, {"error": "Shipment not found"})


@pytest.mark.parametrize(
    "body",
    [
        {"order_id": 0},
        {"order_id": 1, "tracking_number": "MS0000000000"},
        {"order_id": 1, "address": ""},
        {"order_id": 1, "address": "x" * 501},
        {"user_id": 1},
    ],
)
async def test_an_invalid_shipment_request_is_refused_and_nothing_is_written(
    shipping: Api, database_url: str, body: dict[str, Any]
) -> None:
    status, error = await shipping.post("/internal/shipments", body)
    assert (status, error["error"]) == (422, "Invalid request")
    assert (await shipping.get("/internal/shipments?order_id=1"))[0] == 404
    assert await shipment_rows(database_url) == []


@pytest.mark.parametrize(
    "path",
    [
        "/shipments?offset=100000000000000000000",
        "/shipments/9223372036854775808",
        "/shipments?order_id=9223372036854775808",
        "/internal/shipments?order_id=9223372036854775808",
        "/shipments/0",
    ],
)
async def test_an_id_or_offset_no_column_can_hold_is_a_json_422(shipping: Api, path: str) -> None:
    status, error = await shipping.get(path)
    assert (status, error["error"]) == (422, "Invalid request")


async def test_advancing_an_id_no_column_can_hold_is_a_json_422(shipping: Api) -> None:
    status, error = await shipping.post("/shipments/9223372036854775808/advance")
    assert (status, error["error"]) == (422, "Invalid request")


@pytest.fixture
async def shop(databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[SecureService]:
    """Shipping in the default (secure) mode, with the real users service issuing tokens."""
    async with beside_users(databases, tmp_path, "shipping", build_app, ShippingSettings) as secure:
        yield secure


async def test_a_customer_reads_their_own_shipment(shop: SecureService) -> None:
    alice_id, alice = await shop.customer("Alice")
    _, shipment = await ship(shop.service, 1, user_id=alice_id)
    assert await alice.get(f"/shipments/{shipment['id']}") == (200, shipment)


async def test_another_users_shipment_looks_exactly_like_a_missing_one(shop: SecureService) -> None:
    alice_id, _ = await shop.customer("Alice")
    _, bob = await shop.customer("Bob")
    _, shipment = await ship(shop.service, 1, user_id=alice_id)
    missing = await bob.get("/shipments/999")
    assert missing == (404, {"error": "Shipment not found"})
    assert await bob.get(f"/shipments/{shipment['id']}") == missing


async def test_a_customer_lists_only_their_own_shipments_and_an_admin_all(
    shop: SecureService,
) -> None:
    alice_id, alice = await shop.customer("Alice")
    bob_id, bob = await shop.customer("Bob")
    for order_id, user_id in ((1, alice_id), (2, bob_id), (3, alice_id)):
        await ship(shop.service, order_id, user_id=user_id)
    _, alices = await alice.get("/shipments")
    _, bobs_by_order = await bob.get("/shipments?order_id=1")
    _, everyone = await shop.admin.get("/shipments?limit=1000")
    _, one = await shop.admin.get("/shipments?order_id=2")
    assert [s["order_id"] for s in alices] == [1, 3]
    assert bobs_by_order == []
    assert [s["order_id"] for s in everyone] == [1, 2, 3]
    assert [s["user_id"] for s in one] == [bob_id]


async def test_only_an_admin_advances_a_shipment(shop: SecureService) -> None:
    alice_id, alice = await shop.customer("Alice")
    _, shipment = await ship(shop.service, 1, user_id=alice_id)
    path = f"/shipments/{shipment['id']}/advance"
    assert await alice.post(path) == (403, {"error": "Admin role required"})
    status, shipped = await shop.admin.post(path)
    assert (status, shipped["status"]) == (200, "shipped")


async def test_without_a_token_the_public_shipments_api_is_a_401(shop: SecureService) -> None:
    status, error = await shop.service.get("/shipments")
    assert (status, error) == (401, {"error": "Not authenticated"})
