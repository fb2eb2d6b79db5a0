"""A customer's order in the default (secure) mode through the Compose system's
gateway: approved by the saga, confirmed by one e-mail, shown by order_history."""

import os
from email import message_from_bytes
from typing import Any

import pytest

from tests.compose.containers import files_in
from tests.support.http import Api
from tests.support.waiting import eventually

pytestmark = pytest.mark.skipif(
    os.environ.get("MICROSHOP_COMPOSE_MODE") != "secure", reason="runs in secure mode"
)
SAGA_TIMEOUT = 60.0


async def test_a_customers_order_is_approved_mailed_and_in_their_history(api: Api) -> None:
    broker = os.environ.get("MICROSHOP_COMPOSE_BROKER", "nats")
    email, password = f"ada-{broker}@example.com", "ada-secret-pw-1"
    status, user = await api.post(
        "/api/users", {"name": "Ada", "email": email, "password": password}
    )
    assert status == 201, user
    status, token = await api.post("/api/auth/token", {"email": email, "password": password})
    assert status == 200, token
    customer = api.as_user(token["access_token"])
    assert (await api.get("/api/orders"))[0] == 401, "orders need a token"

    status, order = await customer.post("/api/orders", {"product_id": 2, "quantity": 1})
    assert status == 201, order

    async def approved() -> dict[str, Any] | None:
        status, body = await customer.get(f"/api/orders/{order['id']}")
        return body if status == 200 and body["status"] == "approved" else None

    await eventually(approved, SAGA_TIMEOUT, interval=0.5, message="order not approved")

    subject = f"Order #{order['id']} confirmed"

    def mails() -> list[Any]:
        found = [message_from_bytes(m) for m in files_in("notifications", "/data/mail").values()]
        return [m for m in found if m["Subject"] == subject]

    mailed = await eventually(mails, SAGA_TIMEOUT, interval=1.0, message=f"no e-mail {subject!r}")
    assert len(mailed) == 1 and mailed[0]["To"] == email

    async def in_history() -> dict[str, Any] | None:
        status, views = await customer.get("/api/order-history")
        mine = [v for v in views or [] if status == 200 and v["order_id"] == order["id"]]
        return mine[0] if mine and mine[0]["status"] == "approved" else None

    view = await eventually(in_history, SAGA_TIMEOUT, interval=0.5, message="not in history")
    assert view["order_id"] == order["id"]
