"""The chapter's Step 7 curl walkthrough, through the gateway of a system in open mode."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.system import System, running_system
from tests.support.http import Api

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("open") / "data"
    with running_system(data_dir, open_mode=True) as running:
        yield running


async def test_the_tutorials_walkthrough_creates_a_user_and_orders_two_laptops(api: Api) -> None:
    status, user = await api.post("/api/users", {"name": "John Doe", "email": "john@example.com"})
    assert status == 201
    assert (user["name"], user["email"]) == ("John Doe", "john@example.com")
    assert isinstance(user["id"], int)
    assert api.last_headers.get("X-Request-Id")

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
    assert (order["user"]["id"], order["product"]["id"], order["quantity"]) == (user["id"], 1, 2)
    assert order["total"] == 1999.98
    assert order["status"] == "pending"

    status, orders = await api.get("/api/orders")
    assert status == 200 and any(o["id"] == order["id"] for o in orders)
    status, again = await api.get(f"/api/orders/{order['id']}")
    assert status == 200 and again["total"] == 1999.98


async def test_every_service_answers_its_health_check_through_the_gateway(
    api: Api, system: System
) -> None:
    for path in ("/api/users/health", "/api/products/health", "/api/orders/health"):
        status, body = await api.get(path)
        assert (status, body["status"]) == (200, "ok"), path
    published = [p["url"] for p in system.state()["processes"].values() if "/api/" in p["url"]]
    for url in published:
        status, _ = await api.get(url.removeprefix(system.url) + "/health")
        assert status == 200, url


async def test_the_gateway_answers_its_own_health(api: Api) -> None:
    assert await api.get("/health") == (200, {"status": "ok"})
    assert api.last_headers.get("X-Request-Id")


async def test_an_unknown_path_is_a_json_404(api: Api) -> None:
    assert await api.get("/api/nothing-here") == (404, {"error": "Not found"})
    assert await api.get("/users/1") == (404, {"error": "Not found"})


def test_status_shows_every_process_alive_and_healthy(system: System) -> None:
    result = system.microshop("status", "--data-dir", str(system.data_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in system.state()["processes"]:
        assert name in result.stdout
    assert "unhealthy" not in result.stdout


def test_logs_shows_the_detached_systems_log_with_each_process_named(system: System) -> None:
    result = system.microshop("logs", "--data-dir", str(system.data_dir), "--lines", "1000")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^microshop +\| all services are healthy$", result.stdout, re.MULTILINE)
    assert re.search(r"^catalog +\| ", result.stdout, re.MULTILINE)
