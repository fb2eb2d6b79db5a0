"""The wrk engine: the Lua script it writes for each scenario and flavour, run by the
real wrk against a fake shop on loopback."""

import itertools
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from microshop.bench.load import LoadPlan
from microshop.bench.scenarios import Flavour, Shop, search_paths
from microshop.bench.wrk_engine import WrkEngine, WrkFailed
from tests.support.asgi import free_port, serving

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


TOKENS = ("token-a", "token-b", "token-c")


@dataclass
class Seen:
    """What the fake shop was sent."""

    paths: Counter[str] = field(default_factory=Counter)
    tokens: Counter[str] = field(default_factory=Counter)
    keys: list[str] = field(default_factory=list)
    prefer: Counter[str] = field(default_factory=Counter)
    bodies: Counter[bytes] = field(default_factory=Counter)


def fake_shop(seen: Seen) -> FastAPI:
    app = FastAPI()
    # Every third checkout is still pending when the wait is over.
    order_statuses = itertools.cycle(["approved", "approved", "pending"])

    @app.get("/api/products")
    async def products(request: Request) -> JSONResponse:
        seen.paths[
            str(request.url.path) + ("?" + request.url.query if request.url.query else "")
        ] += 1
        return JSONResponse([{"id": 1, "status": "in stock"}])

    @app.post("/api/orders")
    async def orders(request: Request) -> JSONResponse:
        seen.bodies[await request.body()] += 1
        seen.tokens[request.headers.get("authorization", "")] += 1
        if key := request.headers.get("idempotency-key"):
            seen.keys.append(key)
        if prefer := request.headers.get("prefer"):
            seen.prefer[prefer] += 1
            return JSONResponse({"id": 1, "status": next(order_statuses)}, status_code=201)
        return JSONResponse({"id": 1, "status": "pending"}, status_code=201)

    return app


@pytest.fixture
async def shop_and_seen() -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()
    async with serving(fake_shop(seen)) as url:
        yield url, seen


PLAN = LoadPlan(duration_s=1, concurrency=4)


@needs_wrk
async def test_microshop_orders_carry_a_token_from_the_pool_and_a_fresh_key(
    shop_and_seen: tuple[str, Seen],
) -> None:
    url, seen = shop_and_seen
    shop = Shop(url, Flavour.MICROSHOP, TOKENS, product_id=7)
    measured = await WrkEngine(shutil.which("wrk") or "").run(shop, "order", PLAN, None)
    # the server also saw the requests still in flight when wrk stopped
    assert measured.ok == pytest.approx(len(seen.keys), abs=PLAN.concurrency)
    assert measured.ok > 10
    assert measured.errors == 0 and not measured.capped
    assert len(set(seen.keys)) == len(seen.keys), "an Idempotency-Key was sent twice"
    assert set(seen.tokens) == {f"Bearer {token}" for token in TOKENS}
    assert set(seen.bodies) == {b'{"product_id":7,"quantity":1}'}
    assert not seen.prefer
    latency = measured.kinds[0].latency_ms
    assert 0 < latency["p50"] <= latency["p99"] <= latency["p99.9"] <= latency["max"]


@needs_wrk
async def test_checkout_waits_and_counts_only_approved_orders(
    shop_and_seen: tuple[str, Seen],
) -> None:
    url, seen = shop_and_seen
    shop = Shop(url, Flavour.MICROSHOP, TOKENS, checkout_wait_s=10)
    measured = await WrkEngine(shutil.which("wrk") or "").run(shop, "checkout", PLAN, None)
    answered = sum(seen.prefer.values())
    assert set(seen.prefer) == {"wait=10"}
    assert measured.kinds[0].errors == {"201 pending": measured.errors}
    # one in three is pending, give or take the requests in flight at the end
    assert measured.ok + measured.errors == pytest.approx(answered, abs=PLAN.concurrency)
    assert measured.errors == pytest.approx(answered / 3, abs=PLAN.concurrency)


@needs_wrk
async def test_the_chapters_system_gets_its_own_body_and_no_token(
    shop_and_seen: tuple[str, Seen],
) -> None:
    url, seen = shop_and_seen
    measured = await WrkEngine(shutil.which("wrk") or "").run(
        Shop(url, Flavour.SEED), "order", PLAN, None
    )
    assert measured.ok > 10 and measured.errors == 0
    assert set(seen.bodies) == {b'{"user_id":1,"product_id":1,"quantity":2}'}
    assert set(seen.tokens) == {""} and not seen.keys


@needs_wrk
@pytest.mark.parametrize("flavour", list(Flavour))
async def test_browse_lists_the_products(shop_and_seen: tuple[str, Seen], flavour: Flavour) -> None:
    url, seen = shop_and_seen
    measured = await WrkEngine(shutil.which("wrk") or "").run(
        Shop(url, flavour, TOKENS), "browse", PLAN, None
    )
    assert measured.ok == pytest.approx(seen.paths["/api/products"], abs=PLAN.concurrency)
    assert measured.ok > 10
    assert measured.errors == 0 and not seen.tokens


@needs_wrk
async def test_search_takes_the_terms_in_turn(shop_and_seen: tuple[str, Seen]) -> None:
    url, seen = shop_and_seen
    plan = LoadPlan(duration_s=1, concurrency=2, max_requests=400)
    measured = await WrkEngine(shutil.which("wrk") or "").run(
        Shop(url, Flavour.MICROSHOP), "search", plan, None
    )
    assert measured.ok == 400 and measured.capped
    terms = search_paths()
    # 2 threads, 200 requests each: each starts from the first term
    assert set(seen.paths) == set(terms[:200])


@needs_wrk
async def test_a_server_that_is_not_there_fails_the_run() -> None:
    shop = Shop(f"http://127.0.0.1:{free_port()}", Flavour.SEED)
    with pytest.raises(WrkFailed, match="unable to connect"):
        await WrkEngine(shutil.which("wrk") or "").run(shop, "browse", PLAN, None)
