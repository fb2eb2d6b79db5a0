"""The chapter's Step 7 curl walkthrough, through the gateway of the Compose system
in open mode."""

import os

import pytest

from tests.support.http import Api

pytestmark = pytest.mark.skipif(
    os.environ.get("MICROSHOP_COMPOSE_MODE") != "open", reason="the walkthrough runs in open mode"
)


async def test_the_walkthrough_creates_a_user_and_orders_two_laptops(api: Api) -> None:
    status, user = await api.post("/api/users", {"name": "John Doe", "email": "john@example.com"})
    assert status == 201, user
    status, fetched = await api.get(f"/api/users/{user['id']}")
    assert status == 200 and fetched["email"] == "john@example.com"

    status, products = await api.get("/api/products")
    assert status == 200
    starters = [(p["name"], p["price"], p["stock"]) for p in products[:3]]
    assert starters == [("Laptop", 999.99, 10), ("Mouse", 29.99, 50), ("Keyboard", 79.99, 30)]

    status, order = await api.post(
        "/api/orders", {"user_id": user["id"], "product_id": 1, "quantity": 2}
    )
    assert status == 201, order
    assert (order["quantity"], order["total"]) == (2, 1999.98)
    status, orders = await api.get("/api/orders")
    assert status == 200 and any(o["id"] == order["id"] for o in orders)


async def test_every_service_answers_its_health_check_through_the_gateway(api: Api) -> None:
    assert await api.get("/health") == (200, {"status": "ok"})
    for path in ("/api/users/health", "/api/products/health", "/api/orders/health"):
        status, body = await api.get(path)
        assert (status, body["status"]) == (200, "ok"), path
