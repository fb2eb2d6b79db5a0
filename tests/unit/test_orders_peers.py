from decimal import Decimal
from typing import Any

import pytest

from microshop.chassis.client import Reply, ServiceClient
from microshop.chassis.discovery import StaticDiscovery
from microshop.chassis.errors import status_of
from microshop.contracts.errors import BadUpstream, NotFound
from microshop.services.orders.peers import fetch_product, fetch_user


class CannedClient(ServiceClient):
    """The service client port, answering every call with one canned reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(StaticDiscovery({}))
        self.reply = reply
        self.calls: list[tuple[str, str, str, str | None]] = []

    async def request(
        self, method: str, service: str, path: str, *, token: str | None = None, **_: Any
    ) -> Reply:
        self.calls.append((method, service, path, token))
        return self.reply


async def test_a_user_is_read_from_the_users_service_with_the_callers_token() -> None:
    client = CannedClient(Reply(200, {"id": 7, "name": "Ann", "email": "a@x.io", "role": "x"}))
    user = await fetch_user(client, 7, "the-token")
    assert (user.id, user.name, user.email) == (7, "Ann", "a@x.io")
    assert client.calls == [("GET", "users", "/users/7", "the-token")]


async def test_a_product_price_arrives_as_an_exact_decimal() -> None:
    client = CannedClient(Reply(200, {"id": 1, "name": "Laptop", "price": 999.99, "stock": 10}))
    product = await fetch_product(client, 1)
    assert product.price == Decimal("999.99")
    assert client.calls == [("GET", "catalog", "/internal/products/1", None)]


async def test_a_missing_user_or_product_is_a_404_in_the_orders_words() -> None:
    with pytest.raises(NotFound, match="User not found"):
        await fetch_user(CannedClient(Reply(404, {"error": "User not found"})), 9, None)
    with pytest.raises(NotFound, match="Product not found"):
        await fetch_product(CannedClient(Reply(404, {"error": "gone"})), 9)


@pytest.mark.parametrize(
    "reply", [Reply(403, {"error": "Forbidden"}), Reply(200, {"id": "x"}), Reply(200, None)]
)
async def test_an_answer_outside_the_contract_is_a_502_not_a_crash(reply: Reply) -> None:
    with pytest.raises(BadUpstream) as refused:
        await fetch_user(CannedClient(reply), 1, None)
    assert status_of(refused.value) == 502
    assert refused.value.details == {"upstream_status": reply.status}
