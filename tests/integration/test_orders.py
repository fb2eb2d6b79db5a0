"""The orders service over real HTTP, with the real users, catalog, payments and
shipping services beside it, on SQLite, PostgreSQL and MariaDB (the chapter puts
orders on MySQL). The saga itself is tested in test_order_saga.py."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import DatabaseFactory
from tests.support.shop import LAPTOP, Shop, running_shop


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """The orders database's backend (overrides conftest's to add MariaDB)."""
    return str(request.param)


@pytest.fixture
async def open_shop(
    backend: str, databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[Shop]:
    async with running_shop(
        backend, databases, tmp_path, open_mode=True, orders_backend_only=backend != "sqlite"
    ) as shop:
        yield shop


@pytest.fixture
async def shop(backend: str, databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Shop]:
    async with running_shop(
        backend, databases, tmp_path, open_mode=False, orders_backend_only=backend != "sqlite"
    ) as shop:
        yield shop


STABLE = ("id", "user", "product", "quantity", "items", "total", "created_at")


def same_order(reply: tuple[int, Any], order: dict[str, Any], status: int = 200) -> bool:
    """The same order, read again (its status moves on as the saga runs)."""
    answered, again = reply
    return answered == status and {k: again[k] for k in STABLE} == {k: order[k] for k in STABLE}


async def register_open(shop: Shop, name: str = "John Doe") -> dict[str, Any]:
    status, user = await shop.users.post(
        "/users", {"name": name, "email": f"{name.split()[0].lower()}@example.com"}
    )
    assert status == 201, user
    return dict(user)


# --- open mode: the chapter's walkthrough -------------------------------------------


async def test_the_chapters_order_of_two_laptops_costs_1999_98_and_keeps_snapshots(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    status, order = await open_shop.orders.post(
        "/orders", {"user_id": john["id"], "product_id": 1, "quantity": 2}
    )
    assert status == 201, order
    assert isinstance(order["id"], int)
    assert order["user"] == {"id": john["id"], "name": "John Doe", "email": "john@example.com"}
    assert order["product"] == LAPTOP
    assert (order["quantity"], order["total"], order["status"]) == (2, 1999.98, "pending")
    assert order["created_at"]

    assert same_order(await open_shop.orders.get(f"/orders/{order['id']}"), order)
    status, listed = await open_shop.orders.get("/orders")
    assert status == 200 and [o["id"] for o in listed] == [order["id"]]


async def test_the_snapshot_keeps_the_price_paid_when_the_catalog_changes_it(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    _, order = await open_shop.orders.post(
        "/orders", {"user_id": john["id"], "product_id": 2, "quantity": 3}
    )
    await open_shop.catalog.patch("/products/2", {"price": 35})
    _, again = await open_shop.orders.get(f"/orders/{order['id']}")
    assert (again["product"]["price"], again["total"]) == (29.99, 89.97)


async def test_an_order_of_several_items_keeps_every_line_and_takes_every_stock(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    stock = [await open_shop.stock(1), await open_shop.stock(2)]
    status, order = await open_shop.orders.post(
        "/orders",
        {
            "user_id": john["id"],
            "items": [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 3}],
        },
    )
    assert status == 201, order
    lines = [(item["product_id"], item["quantity"]) for item in order["items"]]
    assert lines == [(1, 2), (2, 3)]
    assert order["total"] == 2089.95  # 2 x 999.99 + 3 x 29.99
    assert same_order(await open_shop.orders.get(f"/orders/{order['id']}"), order)
    assert (await open_shop.final(order["id"]))["status"] == "approved"
    assert [await open_shop.stock(1), await open_shop.stock(2)] == [stock[0] - 2, stock[1] - 3]


async def test_the_largest_order_keeps_its_total_exact_on_every_backend(open_shop: Shop) -> None:
    john = await register_open(open_shop)
    status, product = await open_shop.catalog.post(
        "/products", {"name": "Yacht", "price": 99999999.99, "stock": 1000}
    )
    assert status == 201, product
    status, order = await open_shop.orders.post(
        "/orders", {"user_id": john["id"], "product_id": product["id"], "quantity": 1000}
    )
    assert (status, order["total"]) == (201, 99999999990.00)
    assert same_order(await open_shop.orders.get(f"/orders/{order['id']}"), order)


async def test_open_mode_has_no_identity_so_an_order_must_name_its_user(open_shop: Shop) -> None:
    status, error = await open_shop.orders.post("/orders", {"product_id": 1, "quantity": 1})
    assert (status, error) == (422, {"error": "user_id is required"})
    assert await open_shop.all_orders() == []


async def test_an_unknown_product_or_user_is_a_404_and_nothing_is_written(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    assert await open_shop.orders.post(
        "/orders", {"user_id": john["id"], "product_id": 9999, "quantity": 1}
    ) == (404, {"error": "Product not found"})
    assert await open_shop.orders.post(
        "/orders", {"user_id": 9999, "product_id": 1, "quantity": 1}
    ) == (404, {"error": "User not found"})
    assert await open_shop.all_orders() == []


async def test_asking_for_more_than_the_stock_is_accepted_then_rejected_as_out_of_stock(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    status, order = await open_shop.orders.post(
        "/orders", {"user_id": john["id"], "product_id": 2, "quantity": 51}
    )
    assert (status, order["status"]) == (201, "pending")
    final = await open_shop.final(order["id"])
    assert (final["status"], final["reason"]) == ("rejected", "Out of stock")
    assert await open_shop.stock(2) == 50


async def test_invalid_order_requests_are_refused_as_json_and_nothing_is_written(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    invalid_bodies: list[dict[str, Any]] = [
        {"user_id": john["id"], "product_id": 1, "quantity": 0},
        {"user_id": john["id"], "product_id": 1, "quantity": -1},
        {"user_id": john["id"], "product_id": 1, "quantity": 10001},
        {"user_id": john["id"], "quantity": 1},
        {"user_id": john["id"], "product_id": 1, "quantity": 1, "total": 0.01},
        {"user_id": john["id"], "product_id": 1, "quantity": 1, "status": "approved"},
    ]
    for body in invalid_bodies:
        status, error = await open_shop.orders.post("/orders", body)
        assert status == 422 and error["error"] == "Invalid request", (body, error)

    status, error = await open_shop.orders.post(
        "/orders", data=b'{"product_id": 1,', headers={"Content-Type": "application/json"}
    )
    assert (status, error) == (400, {"error": "Malformed JSON body"})
    assert await open_shop.all_orders() == []


async def test_orders_are_listed_newest_first_and_pages_are_capped(open_shop: Shop) -> None:
    john = await register_open(open_shop)
    placed = []
    for product_id in (1, 2, 3):
        _, order = await open_shop.orders.post(
            "/orders", {"user_id": john["id"], "product_id": product_id, "quantity": 1}
        )
        placed.append(order["id"])
    status, newest = await open_shop.orders.get("/orders?limit=2")
    assert (status, [o["id"] for o in newest]) == (200, placed[::-1][:2])
    status, rest = await open_shop.orders.get("/orders?limit=1000&offset=2")
    assert (status, [o["id"] for o in rest]) == (200, placed[:1])


async def test_a_missing_order_is_a_json_404_and_an_impossible_id_a_422(open_shop: Shop) -> None:
    assert await open_shop.orders.get("/orders/9999") == (404, {"error": "Order not found"})
    for order_id in (0, 2**31, 2**40, 2**63, 10**20):
        status, body = await open_shop.orders.get(f"/orders/{order_id}")
        assert status == 422 and body["error"] == "Invalid request", (order_id, body)


async def test_paging_parameters_out_of_range_are_a_422_not_a_500(open_shop: Shop) -> None:
    for query in ("offset=239114686564051451904", "offset=-1", "limit=0", "limit=10000000000000"):
        status, body = await open_shop.orders.get(f"/orders?{query}")
        assert status == 422 and "error" in body, (query, body)


# --- idempotency ----------------------------------------------------------------------


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_order(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    body = {"user_id": john["id"], "product_id": 1, "quantity": 2}
    key = {"Idempotency-Key": "checkout-42"}
    status, first = await open_shop.orders.post("/orders", body, headers=key)
    assert status == 201
    assert same_order(await open_shop.orders.post("/orders", body, headers=key), first, 201)
    assert open_shop.orders.last_headers.get("Idempotent-Replayed") == "true"
    assert [o["id"] for o in await open_shop.all_orders()] == [first["id"]]


async def test_a_reused_idempotency_key_with_a_different_request_is_refused(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    key = {"Idempotency-Key": "checkout-43"}
    await open_shop.orders.post(
        "/orders", {"user_id": john["id"], "product_id": 1, "quantity": 2}, headers=key
    )
    status, error = await open_shop.orders.post(
        "/orders", {"user_id": john["id"], "product_id": 1, "quantity": 3}, headers=key
    )
    assert (status, error) == (422, {"error": "Idempotency-Key reused with a different request"})
    assert len(await open_shop.all_orders()) == 1


async def test_an_idempotency_key_longer_than_200_characters_is_refused(open_shop: Shop) -> None:
    john = await register_open(open_shop)
    status, error = await open_shop.orders.post(
        "/orders",
        {"user_id": john["id"], "product_id": 1, "quantity": 1},
        headers={"Idempotency-Key": "k" * 201},
    )
    assert status == 422 and error["error"] == "Invalid request"
    assert await open_shop.all_orders() == []


async def test_concurrent_requests_with_the_same_key_place_exactly_one_order(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    body = {"user_id": john["id"], "product_id": 1, "quantity": 1}
    replies = await asyncio.gather(
        *(
            open_shop.orders.post("/orders", body, headers={"Idempotency-Key": "double-click"})
            for _ in range(5)
        )
    )
    assert {status for status, _ in replies} == {201}
    assert len({order["id"] for _, order in replies}) == 1
    assert len(await open_shop.all_orders()) == 1


# --- a neighbour is down --------------------------------------------------------------


async def test_with_the_catalog_down_an_order_is_a_503_and_nothing_is_written(
    open_shop: Shop,
) -> None:
    john = await register_open(open_shop)
    await open_shop.stop_catalog()
    status, error = await open_shop.orders.post(
        "/orders", {"user_id": john["id"], "product_id": 1, "quantity": 1}
    )
    assert (status, error) == (503, {"error": "catalog unavailable", "retry_after": 1})
    assert open_shop.orders.last_headers.get("Retry-After") == "1"
    assert await open_shop.all_orders() == []


# --- secure mode: tokens and ownership ------------------------------------------------


async def test_a_customer_orders_for_themselves_and_reads_it_back(shop: Shop) -> None:
    alice, as_alice = await shop.customer("Alice")
    status, order = await as_alice.post("/orders", {"product_id": 1, "quantity": 2})
    assert status == 201, order
    assert order["user"] == {"id": alice["id"], "name": "Alice", "email": "alice@example.com"}
    assert order["total"] == 1999.98
    assert same_order(await as_alice.get(f"/orders/{order['id']}"), order)
    status, listed = await as_alice.get("/orders")
    assert status == 200 and [o["id"] for o in listed] == [order["id"]]


async def test_another_users_order_looks_exactly_like_a_missing_one(shop: Shop) -> None:
    _, as_alice = await shop.customer("Alice")
    _, as_bob = await shop.customer("Bob")
    _, alices = await as_alice.post("/orders", {"product_id": 1, "quantity": 1})
    _, bobs = await as_bob.post("/orders", {"product_id": 2, "quantity": 1})

    missing = await as_bob.get("/orders/9999")
    assert missing == (404, {"error": "Order not found"})
    assert await as_bob.get(f"/orders/{alices['id']}") == missing
    assert [o["id"] for o in (await as_bob.get("/orders"))[1]] == [bobs["id"]]
    assert [o["id"] for o in (await as_alice.get("/orders"))[1]] == [alices["id"]]


async def test_an_admin_sees_every_customers_orders(shop: Shop) -> None:
    _, as_alice = await shop.customer("Alice")
    _, as_bob = await shop.customer("Bob")
    _, alices = await as_alice.post("/orders", {"product_id": 1, "quantity": 1})
    _, bobs = await as_bob.post("/orders", {"product_id": 2, "quantity": 1})
    assert [o["id"] for o in await shop.all_orders()] == [bobs["id"], alices["id"]]
    assert same_order(await shop.admin.get(f"/orders/{alices['id']}"), alices)


async def test_without_a_token_orders_are_a_401(shop: Shop) -> None:
    status, error = await shop.orders.post(
        "/orders", {"user_id": 1, "product_id": 1, "quantity": 1}
    )
    assert (status, error) == (401, {"error": "Not authenticated"})
    assert (await shop.orders.get("/orders"))[0] == 401
    assert (await shop.orders.get("/orders/1"))[0] == 401
    assert await shop.all_orders() == []


async def test_a_customer_cannot_order_for_another_user_but_an_admin_can(shop: Shop) -> None:
    alice, _ = await shop.customer("Alice")
    _, as_bob = await shop.customer("Bob")
    status, error = await as_bob.post(
        "/orders", {"user_id": alice["id"], "product_id": 1, "quantity": 1}
    )
    assert (status, error) == (403, {"error": "Cannot order for another user"})
    assert await shop.all_orders() == []

    status, order = await shop.admin.post(
        "/orders", {"user_id": alice["id"], "product_id": 1, "quantity": 1}
    )
    assert status == 201, order
    assert order["user"]["email"] == "alice@example.com"


async def test_an_admin_ordering_for_an_unknown_user_gets_a_404(shop: Shop) -> None:
    status, error = await shop.admin.post(
        "/orders", {"user_id": 9999, "product_id": 1, "quantity": 1}
    )
    assert (status, error) == (404, {"error": "User not found"})
    assert await shop.all_orders() == []


async def test_idempotency_keys_belong_to_the_customer_who_sent_them(shop: Shop) -> None:
    _, as_alice = await shop.customer("Alice")
    _, as_bob = await shop.customer("Bob")
    key = {"Idempotency-Key": "cart-1"}
    body = {"product_id": 2, "quantity": 1}
    _, alices = await as_alice.post("/orders", body, headers=key)
    _, bobs = await as_bob.post("/orders", body, headers=key)
    assert alices["id"] != bobs["id"]
    assert same_order(await as_alice.post("/orders", body, headers=key), alices, 201)
    assert len(await shop.all_orders()) == 2
