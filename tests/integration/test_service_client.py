"""The chassis client against real sockets: retries, the breaker, the 503."""

import asyncio
import contextlib
from pathlib import Path

from microshop.chassis.breaker import State
from microshop.chassis.client import Resilience, ServiceClient, StaticDiscovery
from microshop.contracts.errors import Unavailable as ServiceUnavailable
from microshop.services.catalog.main import CatalogSettings, build_app
from tests.support.asgi import free_port, serving


def client_for(port: int, **policy: float) -> ServiceClient:
    return ServiceClient(
        StaticDiscovery({"catalog": f"http://127.0.0.1:{port}"}),
        Resilience(**{"timeout": 1.0, "retries": 2, "breaker_reset": 1.0, **policy}),  # type: ignore[arg-type]
    )


async def test_a_dead_peer_opens_the_breaker_and_then_calls_fail_at_once() -> None:
    client = client_for(free_port(), retries=0)
    for _ in range(5):
        try:
            await client.get("catalog", "/products")
        except ServiceUnavailable as exc:
            assert exc.message == "catalog unavailable"
    assert client.breaker("catalog").state == State.OPEN
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await client.get("catalog", "/products")
        raise AssertionError("an open breaker must refuse")
    except ServiceUnavailable as exc:
        assert exc.retry_after >= 1
    assert loop.time() - started < 0.05, "an open breaker answers without touching the network"
    await client.close()


async def test_the_breaker_closes_again_once_the_peer_is_back(tmp_path: Path) -> None:
    port = free_port()
    client = client_for(port, retries=0, breaker_failures=2)
    for _ in range(2):
        with contextlib.suppress(ServiceUnavailable):
            await client.get("catalog", "/products")
    assert client.breaker("catalog").state == State.OPEN
    settings = CatalogSettings(data_dir=tmp_path, open_mode=True)
    async with serving(build_app(settings), port=port):
        await asyncio.sleep(1.05)  # the reset timeout
        reply = await client.get("catalog", "/products")
        assert reply.status == 200 and len(reply.body) == 3
        assert client.breaker("catalog").state == State.CLOSED
    await client.close()


async def test_only_idempotent_calls_are_retried(tmp_path: Path) -> None:
    port = free_port()
    calls = client_for(port, retries=2, breaker_failures=100)
    for method in ("GET", "POST"):
        with contextlib.suppress(ServiceUnavailable):
            await calls.request(method, "catalog", "/products", json={})
    # GET: 1 + 2 retries; POST without an Idempotency-Key: exactly one attempt.
    assert calls.breaker("catalog").failures == 4
    await calls.close()
