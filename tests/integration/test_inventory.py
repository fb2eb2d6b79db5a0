"""Stock for orders: idempotent by order id, never below zero under concurrency."""

import asyncio
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


async def stock(api: Api, product_id: int) -> int:
    return int((await api.get(f"/products/{product_id}"))[1]["stock"])


def decrease(order_id: int, *items: tuple[int, int]) -> dict:
    return {"order_id": order_id, "items": [{"product_id": p, "quantity": q} for p, q in items]}


async def test_a_decrease_is_applied_once_however_often_it_is_sent(catalog: Api) -> None:
    for _ in range(3):
        status, body = await catalog.post("/internal/stock/decrease", decrease(1, (1, 2), (2, 5)))
        assert status == 200 and body["status"] == "decreased"
    assert (await stock(catalog, 1), await stock(catalog, 2)) == (8, 45)


async def test_a_restore_puts_the_stock_back_once(catalog: Api) -> None:
    await catalog.post("/internal/stock/decrease", decrease(1, (1, 2)))
    for _ in range(3):
        status, body = await catalog.post("/internal/stock/restore", {"order_id": 1})
        assert (status, body["status"]) == (200, "restored")
    assert await stock(catalog, 1) == 10


async def test_an_order_asking_more_than_the_stock_changes_nothing(catalog: Api) -> None:
    status, body = await catalog.post("/internal/stock/decrease", decrease(1, (2, 1), (1, 11)))
    assert status == 409
    assert body == {"error": "Out of stock", "product_id": 1, "available": 10}
    assert (await stock(catalog, 1), await stock(catalog, 2)) == (10, 50)


async def test_a_restore_that_overtakes_its_decrease_makes_the_decrease_a_no_op(
    catalog: Api,
) -> None:
    await catalog.post("/internal/stock/restore", {"order_id": 9})
    status, body = await catalog.post("/internal/stock/decrease", decrease(9, (1, 3)))
    assert (status, body["status"]) == (200, "restored")
    assert await stock(catalog, 1) == 10


async def test_fifty_concurrent_orders_for_ten_laptops_sell_exactly_ten(catalog: Api) -> None:
    results = await asyncio.gather(
        *(catalog.post("/internal/stock/decrease", decrease(n, (1, 1))) for n in range(1, 51))
    )
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 10 and statuses.count(409) == 40
    assert await stock(catalog, 1) == 0


async def test_an_unknown_product_is_a_404_and_nothing_changes(catalog: Api) -> None:
    status, body = await catalog.post("/internal/stock/decrease", decrease(1, (1, 1), (999, 1)))
    assert (status, body["error"]) == (404, "Product not found")
    assert await stock(catalog, 1) == 10
