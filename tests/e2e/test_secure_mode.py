"""The default (secure) mode through the gateway: tokens, ownership, roles, API docs."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.system import ADMIN_EMAIL, ADMIN_PASSWORD, System, running_system
from tests.support.http import Api
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("secure") / "data"
    with running_system(data_dir) as running:
        yield running


async def sign_up(api: Api, name: str, email: str) -> tuple[dict[str, Any], str]:
    password = f"{name}-secret-pw"
    status, user = await api.post(
        "/api/users", {"name": name, "email": email, "password": password}
    )
    assert status == 201, user
    status, token = await api.post("/api/auth/token", {"email": email, "password": password})
    assert status == 200, token
    return user, token["access_token"]


async def test_a_customer_sees_their_own_order_and_nobody_elses(api: Api) -> None:
    alice, alice_token = await sign_up(api, "alice", "alice@example.com")
    _, bob_token = await sign_up(api, "bob", "bob@example.com")
    as_alice, as_bob = api.as_user(alice_token), api.as_user(bob_token)

    status, order = await as_alice.post("/api/orders", {"product_id": 2, "quantity": 1})
    assert status == 201, order
    assert order["user"]["id"] == alice["id"]

    status, mine = await as_alice.get(f"/api/orders/{order['id']}")
    assert (status, mine["id"]) == (200, order["id"])
    status, _ = await as_bob.get(f"/api/orders/{order['id']}")
    assert status == 404


async def test_orders_need_a_valid_token(api: Api) -> None:
    _, token = await sign_up(api, "carol", "carol@example.com")
    status, body = await api.get("/api/orders")
    assert status == 401 and "error" in body
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    status, body = await api.as_user(tampered).get("/api/orders")
    assert status == 401 and "error" in body


async def test_the_gateway_refuses_a_bad_token_before_any_service_sees_it(api: Api) -> None:
    _, token = await sign_up(api, "erin", "erin@example.com")
    # Even a public route: a token that is there must be valid.
    forger = api.as_user(token[:-4] + "AAAA")
    status, body = await forger.get("/api/products")
    assert (status, body["error"]) == (401, "Invalid token")
    assert 'error="invalid_token"' in forger.last_headers["www-authenticate"]
    status, _ = await api.as_user(token).get("/api/products")
    assert status == 200


async def test_only_an_admin_may_add_a_product(api: Api) -> None:
    _, customer = await sign_up(api, "dave", "dave@example.com")
    product = {"name": "Monitor", "price": "199.90", "stock": 5}
    status, _ = await api.as_user(customer).post("/api/products", product)
    assert status == 403

    status, token = await api.post(
        "/api/auth/token", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert status == 200, token
    status, created = await api.as_user(token["access_token"]).post("/api/products", product)
    assert status == 201, created
    assert (created["name"], created["price"]) == ("Monitor", 199.9)


async def test_each_services_openapi_document_and_the_docs_page_are_published(
    api: Api, system: System
) -> None:
    published = [p["url"] for p in system.state()["processes"].values() if "/api/" in p["url"]]
    assert len(published) >= 3
    for url in published:
        status, document = await api.get(url.removeprefix(system.url) + "/openapi.json")
        assert status == 200, url
        assert document["openapi"].startswith("3.")
    status, page = await api.get("/api/docs")
    assert status == 200
    assert api.last_headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in page and "/api/products/openapi.json" in page


async def test_the_product_list_comes_from_the_gateways_cache_at_most_a_second_old(
    api: Api,
) -> None:
    status, token = await api.post(
        "/api/auth/token", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert status == 200
    admin = api.as_user(token["access_token"])
    await api.get("/api/products")
    status, listed = await api.get("/api/products")
    assert status == 200 and "age" in {k.lower() for k in api.last_headers}
    mouse = next(p for p in listed if p["name"] == "Mouse")
    status, changed = await admin.patch(f"/api/products/{mouse['id']}", {"price": 31.5})
    assert (status, changed["price"]) == (200, 31.5)
    # A product's own page (what an order is priced from) is never cached.
    assert (await api.get(f"/api/products/{mouse['id']}"))[1]["price"] == 31.5

    async def listed_at_the_new_price() -> bool:
        listed = (await api.get("/api/products"))[1]
        return bool(next(p for p in listed if p["id"] == mouse["id"])["price"] == 31.5)

    # the list catches up within its max-age of one second
    await eventually(listed_at_the_new_price, timeout=5, interval=0.1)
