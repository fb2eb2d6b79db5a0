"""Stock for orders: idempotent by order id, never below zero under concurrency."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from microshop.services.catalog.main import CatalogSettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import serving
from tests.support.db import fetch_rows, outbox_events
from tests.support.http import Api


@pytest.fixture
async def database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    async with databases("catalog") as url:
        yield url


@pytest.fixture
async def catalog(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = CatalogSettings(database_url=database_url, data_dir=tmp_path, open_mode=True)
    async with serving(build_app(settings)) as base:
        api = Api(base)
        yield api
        await api.close()


async def stock(api: Api, product_id: int) -> int:
    return int((await api.get(f"/products/{product_id}"))[1]["stock"])


def decrease(order_id: int, *items: tuple[int, int]) -> dict:
    return {"order_id": order_id, "items": [{"product_id": p, "quantity": q} for p, q in items]}


async def stock_events(database_url: str) -> list[tuple[str, dict]]:
    return [e for e in await outbox_events(database_url) if e[0].startswith("stock.")]


async def test_a_decrease_answers_the_order_and_its_lines(catalog: Api) -> None:
    status, body = await catalog.post("/internal/stock/decrease", decrease(1, (2, 5), (1, 2)))
    assert (status, body) == (
        200,
        {
            "order_id": 1,
            "status": "decreased",
            "items": [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 5}],
        },
    )


async def test_a_decrease_is_applied_once_however_often_it_is_sent(
    catalog: Api, database_url: str
) -> None:
    answers = []
    for _ in range(3):
        status, body = await catalog.post("/internal/stock/decrease", decrease(1, (1, 2), (2, 5)))
        assert status == 200
        answers.append(body)
    assert answers[0] == answers[1] == answers[2]
    assert (await stock(catalog, 1), await stock(catalog, 2)) == (8, 45)
    assert await stock_events(database_url) == [
        (
            "stock.decreased",
            {
                "order_id": 1,
                "items": [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 5}],
            },
        )
    ]


async def test_two_lines_for_one_product_are_taken_as_their_sum(catalog: Api) -> None:
    status, body = await catalog.post("/internal/stock/decrease", decrease(1, (1, 4), (1, 3)))
    assert (status, body["items"]) == (200, [{"product_id": 1, "quantity": 7}])
    assert await stock(catalog, 1) == 3


async def test_concurrent_retries_of_one_decrease_take_the_stock_once(catalog: Api) -> None:
    results = await asyncio.gather(
        *(catalog.post("/internal/stock/decrease", decrease(7, (1, 3))) for _ in range(10))
    )
    assert {(status, body["status"]) for status, body in results} == {(200, "decreased")}
    assert await stock(catalog, 1) == 7


async def test_a_restore_puts_the_stock_back_once(catalog: Api, database_url: str) -> None:
    await catalog.post("/internal/stock/decrease", decrease(1, (1, 2)))
    for _ in range(3):
        status, body = await catalog.post("/internal/stock/restore", {"order_id": 1})
        assert (status, body) == (
            200,
            {"order_id": 1, "status": "restored", "items": [{"product_id": 1, "quantity": 2}]},
        )
    assert await stock(catalog, 1) == 10
    assert [kind for kind, _ in await stock_events(database_url)] == [
        "stock.decreased",
        "stock.restored",
    ]


async def test_concurrent_restores_put_the_stock_back_once(catalog: Api) -> None:
    await catalog.post("/internal/stock/decrease", decrease(1, (1, 4)))
    results = await asyncio.gather(
        *(catalog.post("/internal/stock/restore", {"order_id": 1}) for _ in range(10))
    )
    assert {(status, body["status"]) for status, body in results} == {(200, "restored")}
    assert await stock(catalog, 1) == 10


async def test_an_order_asking_more_than_the_stock_changes_nothing(
    catalog: Api, database_url: str
) -> None:
    status, body = await catalog.post("/internal/stock/decrease", decrease(1, (2, 1), (1, 11)))
    assert status == 409
    assert body == {"error": "Out of stock", "product_id": 1, "available": 10}
    assert (await stock(catalog, 1), await stock(catalog, 2)) == (10, 50)
    assert await fetch_rows(database_url, "SELECT * FROM stock_reservations") == []
    assert await stock_events(database_url) == []


async def test_a_refused_order_can_be_sent_again_once_there_is_stock(catalog: Api) -> None:
    assert (await catalog.post("/internal/stock/decrease", decrease(1, (1, 11))))[0] == 409
    await catalog.patch("/products/1", {"stock": 11})
    status, body = await catalog.post("/internal/stock/decrease", decrease(1, (1, 11)))
    assert (status, body["status"]) == (200, "decreased")
    assert await stock(catalog, 1) == 0


async def test_a_restore_that_overtakes_its_decrease_makes_the_decrease_a_no_op(
    catalog: Api, database_url: str
) -> None:
    status, body = await catalog.post("/internal/stock/restore", {"order_id": 9})
    assert (status, body) == (200, {"order_id": 9, "status": "restored", "items": []})
    status, body = await catalog.post("/internal/stock/decrease", decrease(9, (1, 3)))
    assert (status, body) == (200, {"order_id": 9, "status": "restored", "items": []})
    assert await stock(catalog, 1) == 10
    assert await stock_events(database_url) == []


async def test_fifty_concurrent_orders_for_ten_laptops_sell_exactly_ten(
    catalog: Api, database_url: str
) -> None:
    results = await asyncio.gather(
        *(catalog.post("/internal/stock/decrease", decrease(n, (1, 1))) for n in range(1, 51))
    )
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 10 and statuses.count(409) == 40
    assert await stock(catalog, 1) == 0
    rows = await fetch_rows(database_url, "SELECT COUNT(*) AS n FROM stock_reservations")
    assert rows == [{"n": 10}]


async def test_concurrent_decreases_and_restores_never_lose_or_invent_stock(
    catalog: Api,
) -> None:
    """Orders take two laptops each while half of them are compensated at once:
    whatever the interleaving, the stock is 10 minus what the kept orders hold."""

    async def order(n: int) -> tuple[int, bool]:
        status, _ = await catalog.post("/internal/stock/decrease", decrease(n, (1, 2)))
        if n % 2 == 0:
            await catalog.post("/internal/stock/restore", {"order_id": n})
        return status, n % 2 == 0

    results = await asyncio.gather(*(order(n) for n in range(1, 21)))
    kept = sum(1 for status, restored in results if status == 200 and not restored)
    assert 0 <= await stock(catalog, 1) == 10 - 2 * kept


async def test_an_unknown_product_is_a_404_and_nothing_changes(catalog: Api) -> None:
    status, body = await catalog.post("/internal/stock/decrease", decrease(1, (1, 1), (999, 1)))
    assert (status, body["error"]) == (404, "Product not found")
    assert await stock(catalog, 1) == 10


@pytest.mark.parametrize(
    "body",
    [
        {"order_id": 1, "items": []},
        {"order_id": 0, "items": [{"product_id": 1, "quantity": 1}]},
        {"order_id": 2**31, "items": [{"product_id": 1, "quantity": 1}]},
        {"order_id": 1, "items": [{"product_id": 2**63, "quantity": 1}]},
        {"order_id": 1, "items": [{"product_id": 1, "quantity": 0}]},
        {"order_id": 1, "items": [{"product_id": 1, "quantity": 1, "price": 0}]},
    ],
)
async def test_a_malformed_stock_change_is_a_422(catalog: Api, body: dict) -> None:
    status, error = await catalog.post("/internal/stock/decrease", body)
    assert (status, error["error"]) == (422, "Invalid request")
    assert await stock(catalog, 1) == 10
