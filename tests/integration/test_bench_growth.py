"""A grown catalog imported through the catalog's bulk route, served by a fake catalog on
loopback (uvicorn in this process)."""

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from microshop.bench.catalog_names import product_name
from microshop.bench.growth import grow_catalog
from microshop.bench.prepare import PreparationFailed
from tests.support.asgi import serving


def fake_catalog(imported: list[list[dict[str, Any]]], created: int | None = None) -> FastAPI:
    app = FastAPI()

    @app.post("/api/auth/token")
    async def token() -> dict[str, str]:
        return {"access_token": "admin-token"}

    @app.post("/api/products/import")
    async def bulk(request: Request) -> JSONResponse:
        assert request.headers["authorization"] == "Bearer admin-token"
        batch = await request.json()
        imported.append(batch)
        count = len(batch) if created is None else created
        return JSONResponse({"created": count, "ids": list(range(count))}, status_code=201)

    return app


async def test_products_are_imported_a_thousand_a_request() -> None:
    imported: list[list[dict[str, Any]]] = []
    progress: list[tuple[int, int]] = []
    async with serving(fake_catalog(imported)) as url:
        await grow_catalog(
            url, "admin-password", 2500, lambda done, of: progress.append((done, of))
        )
    assert [len(batch) for batch in imported] == [1000, 1000, 500]
    assert imported[2][-1]["name"] == product_name(2499)
    assert progress == [(1000, 2500), (2000, 2500), (2500, 2500)]


async def test_an_import_that_creates_fewer_products_fails_the_run() -> None:
    async with serving(fake_catalog([], created=3)) as url:
        with pytest.raises(PreparationFailed, match="an import of 10 products"):
            await grow_catalog(url, "admin-password", 10)


async def test_a_catalog_without_the_bulk_route_says_so() -> None:
    app = FastAPI()

    @app.post("/api/auth/token")
    async def token() -> dict[str, str]:
        return {"access_token": "admin-token"}

    async with serving(app) as url:
        with pytest.raises(PreparationFailed, match="import answered 404"):
            await grow_catalog(url, "admin-password", 10)
