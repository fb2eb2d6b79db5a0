"""The order saga through the gateway on the embedded NATS: approved, declined,
cancelled with every step undone, and a cancel refused once the parcel has left."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.shopper import as_admin, email, sign_up, stock
from tests.e2e.system import System, running_system
from tests.support.http import Api

pytestmark = pytest.mark.timeout(240)
WAIT = {"Prefer": "wait=10"}
LAPTOP = 1
DECLINED_CARD = "4000000000000002"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("saga") / "data"
    with running_system(data_dir) as running:
        yield running


async def place(customer: Api, **extra: Any) -> dict[str, Any]:
    status, order = await customer.post(
        "/api/orders", {"product_id": LAPTOP, "quantity": 1, **extra}, headers=WAIT
    )
    assert status == 201, order
    return order  # type: ignore[no-any-return]


async def shipments_of(admin: Api, order_id: int) -> list[dict[str, Any]]:
    status, shipments = await admin.get(f"/api/shipments?order_id={order_id}")
    assert status == 200, shipments
    return shipments  # type: ignore[no-any-return]


async def test_an_approved_order_takes_stock_ships_and_is_announced(
    api: Api, system: System
) -> None:
    user, customer = await sign_up(api, "amara")
    admin = await as_admin(api)
    before = await stock(api, LAPTOP)

    order = await place(customer)

    assert (order["status"], order["reason"]) == ("approved", None)
    assert await stock(api, LAPTOP) == before - 1
    assert [s["status"] for s in await shipments_of(admin, order["id"])] == ["created"]
    message = await email(system, f"Order #{order['id']} approved")
    assert message["To"] == user["email"]


async def test_a_declined_card_rejects_the_order_and_leaves_stock_alone(
    api: Api, system: System
) -> None:
    user, customer = await sign_up(api, "bruno")
    before = await stock(api, LAPTOP)

    order = await place(customer, payment={"card_number": DECLINED_CARD})

    assert (order["status"], order["reason"]) == ("rejected", "Card declined")
    assert await stock(api, LAPTOP) == before
    message = await email(system, f"Order #{order['id']} rejected")
    assert message["To"] == user["email"]


async def test_cancelling_an_approved_order_refunds_it_and_restores_stock(
    api: Api, system: System
) -> None:
    user, customer = await sign_up(api, "chloe")
    admin = await as_admin(api)
    before = await stock(api, LAPTOP)
    order = await place(customer)
    assert order["status"] == "approved"

    status, cancelled = await customer.post(f"/api/orders/{order['id']}/cancel", headers=WAIT)

    assert status == 200, cancelled
    assert cancelled["status"] == "cancelled"
    assert await stock(api, LAPTOP) == before
    status, payments = await admin.get(f"/api/payments?order_id={order['id']}")
    assert status == 200, payments
    assert [p["status"] for p in payments] == ["refunded"]
    assert [s["status"] for s in await shipments_of(admin, order["id"])] == ["cancelled"]
    message = await email(system, f"Order #{order['id']} cancelled")
    assert message["To"] == user["email"]


async def test_an_order_whose_parcel_has_shipped_cannot_be_cancelled(api: Api) -> None:
    _, customer = await sign_up(api, "dmitri")
    admin = await as_admin(api)
    order = await place(customer)
    [shipment] = await shipments_of(admin, order["id"])
    status, advanced = await admin.post(f"/api/shipments/{shipment['id']}/advance")
    assert (status, advanced["status"]) == (200, "shipped")

    status, refused = await customer.post(f"/api/orders/{order['id']}/cancel", headers=WAIT)

    assert status == 409, refused
    assert "error" in refused
    status, still = await customer.get(f"/api/orders/{order['id']}")
    assert (status, still["status"]) == (200, "approved")


def test_no_saga_is_left_unfinished(system: System) -> None:
    listed = system.microshop("saga", "list", "--data-dir", str(system.data_dir))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert listed.stdout.strip() == "no unfinished sagas"
