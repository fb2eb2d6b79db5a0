"""The benchmark's load plan, its loopback-only rule, and a refused connection (the
load loop against a real server: tests/integration/test_bench_load.py)."""

import pytest

from microshop.bench.load import (
    InvalidPlan,
    LoadPlan,
    Recorder,
    new_session,
    require_loopback,
    run_load,
)
from microshop.bench.scenarios import Flavour, Shop
from tests.support.asgi import free_port


async def load(shop: Shop, plan: LoadPlan) -> tuple[Recorder, float, bool, int]:
    recorder = Recorder(("browse",))
    async with new_session(plan) as session:
        outcome = await run_load(session, shop, "browse", plan, recorder)
    return recorder, outcome.measured_s, outcome.capped, outcome.sent


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
