"""The chapter's Step 7 curl walkthrough, through the gateway of a system in open mode."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.system import System, running_system
from tests.support.http import Api
from tests.support.walkthrough import walk_the_tutorial

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("open") / "data"
    with running_system(data_dir, open_mode=True) as running:
        yield running


async def test_the_tutorials_walkthrough_creates_a_user_and_orders_two_laptops(api: Api) -> None:
    user, order = await walk_the_tutorial(api)
    assert user["name"] == "John Doe" and isinstance(user["id"], int)
    assert api.last_headers.get("X-Request-Id")
    assert (order["user"]["id"], order["product"]["id"]) == (user["id"], 1)
    assert order["status"] == "pending"
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
