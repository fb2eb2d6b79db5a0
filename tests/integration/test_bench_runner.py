"""One whole run against a fake microshop on loopback: preparation, warm-up, the
measured load on either engine, and the result with its per-process CPU."""

import os
import shutil
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from microshop.bench.load import LoadPlan
from microshop.bench.runner import RunOptions, Target, run_benchmark
from microshop.bench.scenarios import Flavour
from tests.support.asgi import serving


def fake_microshop(orders: list[str]) -> FastAPI:
    app = FastAPI()

    @app.post("/api/auth/token")
    async def token(request: Request) -> dict[str, str]:
        return {"access_token": "token-of-" + (await request.json())["email"]}

    @app.post("/api/users", status_code=201)
    async def register() -> dict[str, Any]:
        return {"id": 1}

    @app.post("/api/products", status_code=201)
    async def product() -> dict[str, Any]:
        return {"id": 42}

    @app.post("/api/orders")
    async def order(request: Request) -> JSONResponse:
        orders.append(request.headers["idempotency-key"])
        return JSONResponse({"id": len(orders), "status": "pending"}, status_code=201)

    return app


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param("wrk", marks=pytest.mark.skipif(shutil.which("wrk") is None, reason="no wrk")),
        "aiohttp",
    ],
)
async def test_a_run_reports_its_rows_and_where_the_cpu_went(engine: str) -> None:
    orders: list[str] = []
    async with serving(fake_microshop(orders)) as url:
        target = Target(
            "fake",
            url,
            Flavour.MICROSHOP,
            lambda: {os.getpid(): "fake shop"},
            "off",
            admin_password="secret",
        )
        options = RunOptions(
            "order", LoadPlan(duration_s=1, concurrency=4), warmup_s=1, users=2, engine=engine
        )
        result = await run_benchmark(target, options)
    assert result.engine == engine and result.engine_note is None
    assert result.histogram == ("wrk" if engine == "wrk" else "hdr")
    assert result.ok > 10 and result.errors == 0
    # warm-up and measured run both sent orders; the measured ones are counted
    assert len(orders) > result.ok
    [process] = result.cpu.processes
    assert process.name == "fake shop" and process.cpu_s > 0 and process.share == 1.0
    assert result.cpu.system_s == round(process.cpu_s, 2)
    assert result.cpu.generator_s > 0
    assert result.memory is not None and result.memory.processes == 1
    assert result.to_json()["cpu"]["processes"][0]["name"] == "fake shop"
