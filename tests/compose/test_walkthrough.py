"""The chapter's Step 7 curl walkthrough, through the gateway of the Compose system
in open mode."""

import os

import pytest

from tests.support.http import Api
from tests.support.walkthrough import walk_the_tutorial

pytestmark = pytest.mark.skipif(
    os.environ.get("MICROSHOP_COMPOSE_MODE") != "open", reason="the walkthrough runs in open mode"
)


async def test_the_walkthrough_creates_a_user_and_orders_two_laptops(api: Api) -> None:
    await walk_the_tutorial(api)


async def test_every_service_answers_its_health_check_through_the_gateway(api: Api) -> None:
    assert await api.get("/health") == (200, {"status": "ok"})
    for path in ("/api/users/health", "/api/products/health", "/api/orders/health"):
        status, body = await api.get(path)
        assert (status, body["status"]) == (200, "ok"), path
