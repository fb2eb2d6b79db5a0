"""The benchmark's load loop against a real HTTP server on loopback."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from microshop.bench.load import (
    InvalidPlan,
    LoadPlan,
    Recorder,
    new_session,
    require_loopback,
    run_load,
)
from microshop.bench.scenarios import Flavour, Shop
from tests.support.asgi import free_port, serving

SERVICE_TIME_S = 0.02


def shop_app(status: int = 200, serialized: bool = False) -> FastAPI:
    app = FastAPI()
    one_at_a_time = asyncio.Lock()

    @app.get("/api/products")
    async def products() -> JSONResponse:
        if serialized:
            async with one_at_a_time:
                await asyncio.sleep(SERVICE_TIME_S)
        return JSONResponse([{"id": 1}], status_code=status)

    return app


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    async with serving(shop_app()) as url:
        yield Shop(url, Flavour.SEED)


async def load(shop: Shop, plan: LoadPlan) -> tuple[Recorder, float, bool, int]:
    recorder = Recorder(("browse",))
    async with new_session(plan) as session:
        outcome = await run_load(session, shop, "browse", plan, recorder)
    return recorder, outcome.measured_s, outcome.capped, outcome.sent


async def test_a_closed_loop_counts_every_answer_until_its_time_is_up(shop: Shop) -> None:
    recorder, measured_s, capped, sent = await load(shop, LoadPlan(duration_s=0.5, concurrency=4))
    assert recorder.ok == sent > 10
    assert recorder.failed == 0 and not capped
    assert 0.5 <= measured_s < 1.5
    assert recorder.kinds["browse"].latencies.percentile_ms(50) > 0


async def test_a_closed_loop_stops_at_its_request_budget(shop: Shop) -> None:
    recorder, _, capped, sent = await load(
        shop, LoadPlan(duration_s=30, concurrency=4, max_requests=25)
    )
    assert recorder.ok == sent == 25
    assert capped


async def test_an_open_loop_sends_on_schedule(shop: Shop) -> None:
    recorder, measured_s, _, sent = await load(shop, LoadPlan(duration_s=1.0, rate=50))
    assert sent == recorder.ok == 50
    assert measured_s == pytest.approx(1.0, abs=0.1)


async def test_open_loop_latency_includes_the_queue_when_the_server_falls_behind() -> None:
    # 100 requests/s into a server that takes 20 ms each, one at a time: the queue grows,
    # and a request's latency counts from when it was due, not from when it left.
    async with serving(shop_app(serialized=True)) as url:
        recorder, *_ = await load(Shop(url, Flavour.SEED), LoadPlan(duration_s=0.5, rate=100))
    assert recorder.ok == 50
    assert recorder.kinds["browse"].latencies.percentile_ms(99) > 10 * SERVICE_TIME_S * 1000


async def test_errors_are_counted_by_status() -> None:
    async with serving(shop_app(status=503)) as url:
        recorder, *_ = await load(
            Shop(url, Flavour.SEED), LoadPlan(duration_s=5, concurrency=2, max_requests=10)
        )
    assert (recorder.ok, recorder.failed) == (0, 10)
    assert recorder.kinds["browse"].errors == {"503": 10}


async def test_a_refused_connection_is_counted_by_its_exception() -> None:
    shop = Shop(f"http://127.0.0.1:{free_port()}", Flavour.SEED)
    recorder, *_ = await load(shop, LoadPlan(duration_s=5, concurrency=1, max_requests=3))
    assert recorder.kinds["browse"].errors == {"ClientConnectorError": 3}


def test_a_plan_is_bounded_in_time_count_and_rate() -> None:
    for bad in (
        {"duration_s": 0},
        {"duration_s": 601},
        {"duration_s": 1, "concurrency": 0},
        {"duration_s": 1, "concurrency": 5000},
        {"duration_s": 1, "rate": 0},
        {"duration_s": 1, "rate": 1e9},
        {"duration_s": 1, "max_requests": 0},
    ):
        with pytest.raises(InvalidPlan):
            LoadPlan(**bad)
    assert LoadPlan(duration_s=1, rate=10).describe() == "open loop, 10 req/s"


def test_only_loopback_addresses_are_loaded() -> None:
    assert require_loopback("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert require_loopback("http://localhost:8080") == "http://localhost:8080"
    for url in ("http://10.0.0.5:8080", "http://example.com", "http://[::2]:80"):
        with pytest.raises(InvalidPlan):
            require_loopback(url)
