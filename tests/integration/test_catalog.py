from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from microshop.services.catalog.main import CatalogSettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import serving
from tests.support.http import Api


@pytest.fixture
async def catalog(databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Api]:
    async with databases("catalog") as url:
        settings = CatalogSettings(database_url=url, data_dir=tmp_path, open_mode=True)
        async with serving(build_app(settings)) as base:
            api = Api(base)
            yield api
            await api.close()


async def test_a_fresh_catalog_lists_the_chapters_three_products(catalog: Api) -> None:
    status, products = await catalog.get("/products")
    assert status == 200
    assert [(p["name"], p["price"], p["stock"]) for p in products] == [
        ("Laptop", 999.99, 10),
        ("Mouse", 29.99, 50),
        ("Keyboard", 79.99, 30),
    ]


async def test_a_created_product_can_be_read_back_with_its_exact_price(catalog: Api) -> None:
    status, created = await catalog.post(
        "/products", {"name": "Monitor", "price": 199.95, "stock": 7}
    )
    assert status == 201
    status, product = await catalog.get(f"/products/{created['id']}")
    assert (status, product["price"], product["stock"]) == (200, 199.95, 7)


async def test_a_missing_product_is_a_json_404(catalog: Api) -> None:
    assert await catalog.get("/products/9999") == (404, {"error": "Product not found"})


async def test_listing_is_capped_at_100_and_pages_with_offset(catalog: Api) -> None:
    status, page = await catalog.get("/products?limit=1000&offset=1")
    assert status == 200
    assert [p["name"] for p in page] == ["Mouse", "Keyboard"]


async def test_an_update_changes_only_the_fields_given(catalog: Api) -> None:
    status, product = await catalog.patch("/products/2", {"stock": 49})
    assert (status, product["name"], product["stock"]) == (200, "Mouse", 49)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "price": -1, "stock": 1},
        {"name": "X", "price": 1.001, "stock": 1},
        {"name": "", "price": 1, "stock": 1},
        {"name": "X", "price": 1, "stock": -5},
        {"name": "X", "price": 1, "stock": 1, "id": 99},
        {"price": 1, "stock": 1},
    ],
)
async def test_an_invalid_product_is_refused_and_nothing_is_written(
    catalog: Api, body: dict
) -> None:
    status, error = await catalog.post("/products", body)
    assert status == 422 and error["error"] == "Invalid request"
    _, products = await catalog.get("/products")
    assert len(products) == 3


async def test_a_restart_keeps_products_and_does_not_seed_twice(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    async with databases("catalog") as url:
        settings = CatalogSettings(database_url=url, data_dir=tmp_path, open_mode=True)
        for round_ in range(2):
            async with serving(build_app(settings)) as base:
                api = Api(base)
                if round_ == 0:
                    await api.post("/products", {"name": "Cable", "price": 5, "stock": 1})
                _, products = await api.get("/products")
                await api.close()
        assert [p["name"] for p in products] == ["Laptop", "Mouse", "Keyboard", "Cable"]
