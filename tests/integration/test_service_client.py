"""The chassis client against real sockets: retries, the breaker, the 503."""

import asyncio
import contextlib
from pathlib import Path

from aiohttp import web

from microshop.chassis.breaker import State
from microshop.chassis.client import Resilience, ServiceClient
from microshop.chassis.discovery import StaticDiscovery
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


# --- balancing over instances ---------------------------------------------------------


@contextlib.asynccontextmanager
async def instance(name: str, delay: float = 0.0):  # type: ignore[no-untyped-def]
    """A tiny peer that says who it is (and counts what it saw)."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.method)
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"instance": name})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


def balanced(*urls: str, timeout: float = 1.0) -> ServiceClient:
    return ServiceClient(
        StaticDiscovery({"catalog": list(urls)}),
        Resilience(timeout=timeout, retries=0, breaker_failures=100),
    )


async def test_calls_are_spread_over_the_live_instances() -> None:
    async with instance("a") as (a, _), instance("b") as (b, _):
        client = balanced(a, b)
        answers = [(await client.get("catalog", "/x")).body["instance"] for _ in range(40)]
        await client.close()
    assert {"a", "b"} == set(answers) and min(answers.count("a"), answers.count("b")) >= 5


async def test_a_post_to_an_instance_that_is_gone_is_sent_once_to_another() -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    async with instance("b") as (b, seen):
        client = balanced(gone, b)
        for _ in range(10):
            reply = await client.post("catalog", "/orders", json={})
            assert reply.body == {"instance": "b"}
        await client.close()
    # The request never reached the dead instance, so moving it was safe; it arrived once.
    assert seen == ["POST"] * 10


async def test_an_instance_that_keeps_failing_is_passed_over() -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    async with instance("b") as (b, _):
        client = balanced(gone, b)
        # Each call picks one of the two at random: in 30 the dead one is tried
        # (and fails) three times all but surely.
        for _ in range(30):
            await client.get("catalog", "/x")
        picks = {client.choose("catalog") for _ in range(20)}
        await client.close()
    assert picks == {b}, "ejected after three failures in a row"


async def test_a_slow_peer_is_answered_at_the_deadline_not_later() -> None:
    async with instance("slow", delay=3.0) as (slow, _):
        client = ServiceClient(
            StaticDiscovery({"catalog": slow}), Resilience(timeout=0.5, retries=2)
        )
        loop = asyncio.get_running_loop()
        began = loop.time()
        with contextlib.suppress(ServiceUnavailable):
            await client.get("catalog", "/x")
        took = loop.time() - began
        await client.close()
    assert took < 0.8, f"the caller waited {took:.2f} s for a 0.5 s deadline (retries included)"


async def test_one_failing_instance_does_not_open_the_breaker_while_another_answers() -> None:
    async with instance("slow", delay=3.0) as (slow, _), instance("b") as (b, _):
        client = ServiceClient(
            StaticDiscovery({"catalog": [slow, b]}),
            Resilience(timeout=0.3, retries=0, breaker_failures=2),
        )
        failures = 0
        for _ in range(12):
            try:
                await client.get("catalog", "/x")
            except ServiceUnavailable:
                failures += 1
        state = client.breaker("catalog").state
        answer = await client.get("catalog", "/x")
        await client.close()
    assert state is State.CLOSED and answer.body == {"instance": "b"}
    assert failures <= 3, "the slow instance is ejected after three failures in a row"


async def test_the_breaker_opens_when_every_instance_fails() -> None:
    async with (
        instance("slow", delay=3.0) as (slow, _),
        instance("slower", delay=3.0) as (other, _),
    ):
        client = ServiceClient(
            StaticDiscovery({"catalog": [slow, other]}),
            Resilience(timeout=0.3, retries=0, breaker_failures=2),
        )
        for _ in range(10):
            with contextlib.suppress(ServiceUnavailable):
                await client.get("catalog", "/x")
        state = client.breaker("catalog").state
        await client.close()
    assert state is State.OPEN
