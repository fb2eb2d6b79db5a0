"""The benchmark's load loop against a real HTTP server on loopback (uvicorn in this process)."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from microshop.bench.load import (
    LoadPlan,
    Recorder,
    new_session,
    run_load,
)
from microshop.bench.scenarios import Flavour, Shop
from tests.support.asgi import serving

SERVICE_TIME_S = 0.02


def shop_app(status: int = 200, serialized: bool = False) -> FastAPI:
    app = FastAPI()
    one_at_a_time = asyncio.Lock()

    @app.get("/api/products")
    async def products() -> JSONResponse:
        if serialized:
            async with one_at_a_time:
                await asyncio.sleep(SERVICE_TIME_S)  # the point: a slow, one-at-a-time server
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
