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
    assert (await catalog.get("/products/2"))[1]["price"] == 29.99


async def test_an_update_of_a_missing_product_is_a_404(catalog: Api) -> None:
    assert await catalog.patch("/products/9999", {"stock": 1}) == (
        404,
        {"error": "Product not found"},
    )


async def test_an_update_to_a_negative_stock_is_refused_and_changes_nothing(catalog: Api) -> None:
    status, error = await catalog.patch("/products/1", {"stock": -1})
    assert (status, error["error"]) == (422, "Invalid request")
    assert (await catalog.get("/products/1"))[1]["stock"] == 10


TOO_BIG = 9223372036854775808  # 2^63: past every engine's integers


@pytest.mark.parametrize(
    "path",
    [f"/products/{TOO_BIG}", f"/products/{2**31}", "/products/0", "/products/-1"],
)
async def test_a_product_id_no_row_can_have_is_a_422_before_any_query(
    catalog: Api, path: str
) -> None:
    for status, error in (await catalog.get(path), await catalog.patch(path, {"stock": 1})):
        assert (status, error["error"]) == (422, "Invalid request")


@pytest.mark.parametrize(
    "query", ["offset=100000000000000000000", "limit=100000000000000000000", "offset=-1", "limit=0"]
)
async def test_paging_out_of_range_is_a_json_422(catalog: Api, query: str) -> None:
    status, error = await catalog.get(f"/products?{query}")
    assert (status, error["error"]) == (422, "Invalid request")


async def test_the_list_carries_an_etag_and_a_matching_if_none_match_gets_a_bodyless_304(
    catalog: Api,
) -> None:
    status, products = await catalog.get("/products")
    etag = catalog.last_headers["ETag"]
    assert status == 200 and len(products) == 3
    assert catalog.last_headers["Cache-Control"] == "public, max-age=1"
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        assert await catalog.get("/products", headers={"If-None-Match": sent}) == (304, None)
        assert catalog.last_headers["ETag"] == etag
        assert catalog.last_headers["Cache-Control"] == "public, max-age=1"
    status, _ = await catalog.get("/products", headers={"If-None-Match": '"other"'})
    assert status == 200


async def test_a_change_gives_the_list_a_new_etag_at_once(catalog: Api) -> None:
    await catalog.get("/products")
    before = catalog.last_headers["ETag"]
    await catalog.patch("/products/1", {"price": 899.99})
    status, products = await catalog.get("/products", headers={"If-None-Match": before})
    assert status == 200 and products[0]["price"] == 899.99
    assert catalog.last_headers["ETag"] != before


async def test_each_page_has_its_own_etag(catalog: Api) -> None:
    await catalog.get("/products?limit=1")
    first = catalog.last_headers["ETag"]
    status, page = await catalog.get("/products?limit=1&offset=1", headers={"If-None-Match": first})
    assert status == 200 and [p["name"] for p in page] == ["Mouse"]


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
