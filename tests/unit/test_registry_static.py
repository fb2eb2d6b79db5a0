"""The static registry: today's MICROSHOP_PEERS table, for Compose and Kubernetes."""

import asyncio
from contextlib import aclosing

import pytest

from microshop.chassis.registry import Instance, StaticRegistry, open_registry

PEERS = {
    "catalog": "http://catalog:8000",
    "orders": ["http://orders-1:8000/", "https://orders-2"],
}


async def test_every_base_url_is_an_instance() -> None:
    registry = StaticRegistry(PEERS)
    assert await registry.instances("catalog") == [
        Instance("catalog", "catalog-1", "catalog", 8000)
    ]
    two = await registry.instances("orders")
    assert [i.instance for i in two] == ["orders-1", "orders-2"]
    assert [i.url for i in two] == ["http://orders-1:8000", "https://orders-2:443"]
    assert two[0].health_url == "http://orders-1:8000/health/ready"
    assert [i.service for i in await registry.instances()] == ["catalog", "orders", "orders"]
    assert await registry.instances("nobody") == []


async def test_registering_heartbeating_and_deregistering_change_nothing() -> None:
    registry = StaticRegistry(PEERS)
    before = await registry.instances()
    stranger = Instance.new("payments", "10.0.0.9", 8000)
    await registry.register(stranger)
    await registry.heartbeat(stranger.with_served(5))
    await registry.deregister(before[0])
    assert await registry.instances() == before


async def test_a_watch_yields_the_table_once_and_ends_when_closed() -> None:
    registry = StaticRegistry(PEERS)
    async with aclosing(registry.watch("orders")) as changes:
        assert [i.instance for i in await anext(changes)] == ["orders-1", "orders-2"]
        pending = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0.05)
        assert not pending.done()  # the table never changes
        await registry.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(pending, 1)


async def test_a_static_registry_serves_the_peers_it_is_given() -> None:
    registry = open_registry("static:", peers={"users": "http://127.0.0.1:8001"})
    assert [i.url for i in await registry.instances()] == ["http://127.0.0.1:8001"]
    given = open_registry("static:", peers={"users": ["http://a:1", "http://b:2"]})
    assert len(await given.instances("users")) == 2
    with pytest.raises(ValueError, match="needs its peers"):
        open_registry("static:")


def test_a_peer_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not a base URL"):
        StaticRegistry({"users": "users:8000"})
