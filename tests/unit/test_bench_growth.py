"""A grown catalog: generated product names, the search terms that match 1 % of them,
and the import through the catalog's bulk route."""

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from microshop.bench.catalog_names import (
    ADJECTIVES,
    MATERIALS,
    NOUNS,
    product_name,
    products,
    search_terms,
)
from microshop.bench.growth import grow_catalog
from microshop.bench.prepare import PreparationFailed
from tests.support.asgi import serving

CATALOG = [product_name(n) for n in range(20_000)]


def test_names_are_made_of_an_adjective_a_material_a_noun_and_a_number() -> None:
    assert product_name(0) == "amber bamboo anchor 0"
    adjective, material, noun, number = product_name(12_345).split()
    assert (adjective in ADJECTIVES, material in MATERIALS, noun in NOUNS) == (True, True, True)
    assert number == "12345"
    assert len(set(CATALOG)) == len(CATALOG)
    assert max(len(name) for name in CATALOG) <= 200  # the catalog's limit


def test_every_search_term_matches_one_percent_of_the_catalog() -> None:
    terms = search_terms()
    assert len(terms) >= 150 and all(len(term) >= 4 for term in terms)
    for term in terms[::5]:
        by_substring = sum(term in name for name in CATALOG)
        by_word_prefix = sum(any(w.startswith(term) for w in name.split()) for name in CATALOG)
        assert by_substring == by_word_prefix == len(CATALOG) // 100, term


def test_an_import_body_is_what_the_catalog_takes() -> None:
    assert list(products(5, 2)) == [
        {"name": product_name(5), "price": "9.99", "stock": 1000},
        {"name": product_name(6), "price": "9.99", "stock": 1000},
    ]


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
