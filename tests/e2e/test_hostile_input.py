"""What a careless or hostile client sends, through the gateway, to every public
endpoint: numbers no database can hold, ids that cannot exist, NUL characters in
text. Each answer is a 4xx with a JSON error that says what was wrong, and nothing
is written."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.shopper import as_admin, sign_up
from tests.e2e.system import System, running_system
from tests.support.http import Api

pytestmark = pytest.mark.timeout(180)

HUGE = "100000000000000000000"  # 10^20: past any 64-bit integer
BEYOND_INT64 = str(2**63)
LISTS = [
    "/api/products",
    "/api/orders",
    "/api/order-history",
    "/api/payments",
    "/api/shipments",
    "/api/users",
    "/api/notifications",
]
ITEMS = [
    "/api/products/{}",
    "/api/orders/{}",
    "/api/order-history/{}",
    "/api/payments/{}",
    "/api/shipments/{}",
    "/api/users/{}",
]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("hostile") / "data"
    with running_system(data_dir) as running:
        yield running


def refused(status: int, body: Any, statuses: tuple[int, ...] = (422,)) -> bool:
    return status in statuses and isinstance(body, dict) and bool(body.get("error"))


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("query", [f"offset={HUGE}", f"limit={HUGE}", "offset=-1", "limit=0"])
async def test_a_list_refuses_paging_numbers_out_of_range_with_422(
    api: Api, path: str, query: str
) -> None:
    admin = await as_admin(api)
    status, body = await admin.get(f"{path}?{query}")
    assert refused(status, body), (status, body)


@pytest.mark.parametrize("path", ITEMS)
@pytest.mark.parametrize("item", [BEYOND_INT64, HUGE, "0", "-1"])
async def test_an_id_that_cannot_exist_is_a_404_or_422_never_a_500(
    api: Api, path: str, item: str
) -> None:
    admin = await as_admin(api)
    status, body = await admin.get(path.format(item))
    assert refused(status, body, (404, 422)), (status, body)


@pytest.mark.parametrize("path", ["/api/payments", "/api/shipments"])
async def test_an_order_filter_beyond_any_id_is_refused(api: Api, path: str) -> None:
    admin = await as_admin(api)
    status, body = await admin.get(f"{path}?order_id={BEYOND_INT64}")
    assert refused(status, body), (status, body)


async def test_writes_to_ids_that_cannot_exist_are_refused(api: Api) -> None:
    admin = await as_admin(api)
    status, body = await admin.patch(f"/api/products/{BEYOND_INT64}", {"price": "1.00"})
    assert refused(status, body, (404, 422)), (status, body)
    status, body = await admin.post(f"/api/shipments/{BEYOND_INT64}/advance", {})
    assert refused(status, body, (404, 422)), (status, body)
    status, body = await admin.post(f"/api/orders/{BEYOND_INT64}/cancel", {})
    assert refused(status, body, (404, 422)), (status, body)


async def test_a_nul_character_in_any_text_field_is_refused_and_nothing_is_stored(
    api: Api,
) -> None:
    admin = await as_admin(api)
    nul = "a\x00b"
    attempts = [
        (api, "/api/users", {"name": nul, "email": "nul-1@example.com", "password": "pw-123456"}),
        (api, "/api/users", {"name": "Nul", "email": "nul-2@example.com", "password": nul * 4}),
        (admin, "/api/products", {"name": nul, "price": "1.00", "stock": 1}),
        (admin, "/api/products", {"name": "Nul", "price": "1.00", "stock": 1, "description": nul}),
    ]
    for client, path, body in attempts:
        status, answer = await client.post(path, body)
        assert refused(status, answer), (path, status, answer)
        assert "U+0000" in str(answer), answer
    status, users = await admin.get("/api/users?limit=100")
    assert status == 200 and not any(u["email"].startswith("nul-") for u in users)
    status, products = await admin.get("/api/products?limit=100")
    assert status == 200 and not any(p["name"] in (nul, "Nul") for p in products)


async def test_an_order_with_numbers_past_any_column_is_refused(api: Api) -> None:
    _, customer = await sign_up(api, "hostile-hank")
    for order in (
        {"product_id": int(BEYOND_INT64), "quantity": 1},
        {"product_id": 1, "quantity": int(HUGE)},
        {"product_id": 1, "quantity": 0},
    ):
        status, body = await customer.post("/api/orders", order)
        assert refused(status, body), (order, status, body)
    status, orders = await customer.get("/api/orders")
    assert (status, orders) == (200, [])
