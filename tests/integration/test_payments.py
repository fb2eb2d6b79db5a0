"""The payments service over real HTTP on SQLite and PostgreSQL: the order saga's
charges and refunds (internal API) and the customers' view of them (public API)."""

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from microshop.services.payments.main import PaymentsSettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import serving
from tests.support.db import fetch_rows, outbox_events
from tests.support.http import Api
from tests.support.secure import SecureService, beside_users

CARD = "4242424242424242"


@pytest.fixture
async def database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    async with databases("payments") as url:
        yield url


@pytest.fixture
async def payments(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = PaymentsSettings(database_url=database_url, data_dir=tmp_path, open_mode=True)
    async with serving(build_app(settings)) as base:
        api = Api(base)
        yield api
        await api.close()


async def charge(
    api: Api,
    order_id: int,
    amount: float = 49.99,
    *,
    key: str | None = None,
    card: str | None = None,
    user_id: int | None = None,
) -> tuple[int, Any]:
    body: dict[str, Any] = {"order_id": order_id, "amount": amount, "user_id": user_id}
    if card is not None:
        body["card_number"] = card
    headers = {"Idempotency-Key": key or f"order-{order_id}-payment"}
    return await api.post("/internal/payments", body, headers=headers)


async def stored_payment_rows(database_url: str) -> list[str]:
    return [
        repr(tuple(row.values()))
        for row in await fetch_rows(database_url, "SELECT * FROM payments")
    ]


async def test_the_test_card_is_charged_and_only_its_last_four_digits_are_kept(
    payments: Api, database_url: str
) -> None:
    status, payment = await charge(payments, 1, 1999.98, card=CARD, user_id=7)
    assert status == 201
    assert payment == {
        "id": payment["id"],
        "order_id": 1,
        "user_id": 7,
        "amount": 1999.98,
        "status": "succeeded",
        "reason": None,
        "card_last4": "4242",
        "created_at": payment["created_at"],
        "refunded_at": None,
    }
    assert payment["created_at"].endswith(("Z", "+00:00"))
    assert not any(CARD in row for row in await stored_payment_rows(database_url))


async def test_a_charge_without_a_card_uses_the_default_test_card_and_succeeds(
    payments: Api,
) -> None:
    status, payment = await charge(payments, 1)
    assert (status, payment["status"], payment["card_last4"]) == (201, "succeeded", None)


@pytest.mark.parametrize(
    ("card", "amount", "reason"),
    [
        ("4000000000000002", 10, "Card declined"),
        ("4242424242424241", 10, "Invalid card number"),
        ("hello", 10, "Invalid card number"),
        (CARD, 10000.01, "Amount over limit"),
    ],
)
async def test_a_decline_is_a_201_with_status_declined_its_reason_and_a_failed_event(
    payments: Api, database_url: str, card: str, amount: float, reason: str
) -> None:
    status, payment = await charge(payments, 5, amount, card=card)
    assert (status, payment["status"], payment["reason"]) == (201, "declined", reason)
    assert [(kind, data["reason"]) for kind, data in await outbox_events(database_url)] == [
        ("payment.failed", reason)
    ]


async def test_an_amount_exactly_at_the_limit_is_approved(payments: Api) -> None:
    status, payment = await charge(payments, 1, 10000.00)
    assert (status, payment["status"], payment["amount"]) == (201, "succeeded", 10000.0)


async def test_the_limit_is_read_from_the_environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSHOP_PAYMENTS_MAX_AMOUNT", "20.00")
    settings = PaymentsSettings(database_url=database_url, data_dir=tmp_path, open_mode=True)
    assert settings.max_amount == Decimal("20.00")
    async with serving(build_app(settings)) as base:
        api = Api(base)
        _, over = await charge(api, 1, 20.01)
        _, at = await charge(api, 2, 20.00)
        await api.close()
    assert (over["reason"], at["status"]) == ("Amount over limit", "succeeded")


async def test_a_success_writes_one_payment_succeeded_event_with_the_payment(
    payments: Api, database_url: str
) -> None:
    _, payment = await charge(payments, 3, 12.30, user_id=4)
    assert await outbox_events(database_url) == [
        (
            "payment.succeeded",
            {
                "id": payment["id"],
                "order_id": 3,
                "user_id": 4,
                "amount": 12.3,
                "status": "succeeded",
                "reason": None,
            },
        )
    ]


async def test_a_retry_with_the_same_key_returns_the_first_payment_and_charges_once(
    payments: Api, database_url: str
) -> None:
    first_status, first = await charge(payments, 1, key="k-1")
    replies = [await charge(payments, 1, key="k-1") for _ in range(3)]
    assert first_status == 201
    assert replies == [(200, first)] * 3
    assert payments.last_headers["Idempotent-Replayed"] == "true"
    assert [kind for kind, _ in await outbox_events(database_url)] == ["payment.succeeded"]


async def test_five_concurrent_requests_with_one_key_make_exactly_one_payment(
    payments: Api, database_url: str
) -> None:
    replies = await asyncio.gather(*(charge(payments, 1, key="same") for _ in range(5)))
    statuses = sorted(status for status, _ in replies)
    assert statuses == [200, 200, 200, 200, 201]
    assert len({payment["id"] for _, payment in replies}) == 1
    status, listed = await payments.get("/internal/payments?order_id=1")
    assert (status, len(listed)) == (200, 1)
    assert [kind for kind, _ in await outbox_events(database_url)] == ["payment.succeeded"]


async def test_a_key_reused_for_a_different_charge_is_refused(payments: Api) -> None:
    await charge(payments, 1, 10, key="k")
    status, error = await charge(payments, 2, 10, key="k")
    assert (status, error) == (422, {"error": "Idempotency-Key reused with a different request"})


async def test_a_second_key_on_a_paid_order_is_a_409_that_names_the_payment(
    payments: Api, database_url: str
) -> None:
    _, paid = await charge(payments, 1, key="first")
    status, error = await charge(payments, 1, key="second")
    assert (status, error) == (409, {"error": "Order already paid", "payment_id": paid["id"]})
    _, listed = await payments.get("/internal/payments?order_id=1")
    assert [p["id"] for p in listed] == [paid["id"]]
    assert len(await outbox_events(database_url)) == 1


async def test_concurrent_charges_of_one_order_with_different_keys_succeed_once(
    payments: Api,
) -> None:
    replies = await asyncio.gather(*(charge(payments, 1, key=f"k{n}") for n in range(5)))
    assert sorted(status for status, _ in replies) == [201, 409, 409, 409, 409]
    _, listed = await payments.get("/internal/payments?order_id=1")
    assert [p["status"] for p in listed] == ["succeeded"]


async def test_a_declined_attempt_leaves_the_order_open_for_another_card(payments: Api) -> None:
    _, refused = await charge(payments, 1, key="a", card="4000000000000002")
    status, paid = await charge(payments, 1, key="b", card=CARD)
    assert (refused["status"], status, paid["status"]) == ("declined", 201, "succeeded")
    _, listed = await payments.get("/internal/payments?order_id=1")
    assert [p["id"] for p in listed] == [refused["id"], paid["id"]]


async def test_a_payment_is_refunded_once_however_often_it_is_asked(
    payments: Api, database_url: str
) -> None:
    _, paid = await charge(payments, 1)
    replies = [await payments.post(f"/internal/payments/{paid['id']}/refund") for _ in range(3)]
    assert {status for status, _ in replies} == {200}
    refunded = replies[0][1]
    assert (refunded["id"], refunded["status"]) == (paid["id"], "refunded")
    assert refunded["refunded_at"] is not None
    assert all(body == refunded for _, body in replies)
    assert [kind for kind, _ in await outbox_events(database_url)] == [
        "payment.succeeded",
        "payment.refunded",
    ]


async def test_concurrent_refunds_record_one_refund(payments: Api, database_url: str) -> None:
    _, paid = await charge(payments, 1)
    replies = await asyncio.gather(
        *(payments.post(f"/internal/payments/{paid['id']}/refund") for _ in range(5))
    )
    assert {(status, body["status"]) for status, body in replies} == {(200, "refunded")}
    kinds = [kind for kind, _ in await outbox_events(database_url)]
    assert kinds.count("payment.refunded") == 1


async def test_refunding_a_declined_payment_is_a_409(payments: Api) -> None:
    _, refused = await charge(payments, 1, card="4000000000000002")
    status, error = await payments.post(f"/internal/payments/{refused['id']}/refund")
    assert (status, error) == (409, {"error": "Payment was not charged"})


async def test_refunding_a_missing_payment_is_a_json_404(payments: Api) -> None:
    assert await payments.post("/internal/payments/999/refund") == (
        404,
        {"error": "Payment not found"},
    )


async def test_refund_order_refunds_the_orders_charge_once(
    payments: Api, database_url: str
) -> None:
    await charge(payments, 1, key="declined", card="4000000000000002")
    _, paid = await charge(payments, 1, key="paid")
    replies = [await payments.post("/internal/payments/refund-order", {"order_id": 1})]
    replies.append(await payments.post("/internal/payments/refund-order", {"order_id": 1}))
    for status, body in replies:
        assert (status, body["refunded"]) == (200, True)
        assert (body["payment"]["id"], body["payment"]["status"]) == (paid["id"], "refunded")
    kinds = [kind for kind, _ in await outbox_events(database_url)]
    assert kinds.count("payment.refunded") == 1


async def test_refund_order_without_a_charge_makes_a_late_charge_decline(
    payments: Api, database_url: str
) -> None:
    for _ in range(2):
        reply = await payments.post("/internal/payments/refund-order", {"order_id": 8})
        assert reply == (200, {"refunded": False, "payment": None})
    status, late = await charge(payments, 8)
    assert (status, late["status"], late["reason"]) == (201, "declined", "Order cancelled")
    assert [kind for kind, _ in await outbox_events(database_url)] == ["payment.failed"]


async def test_the_internal_list_shows_only_that_orders_payments(payments: Api) -> None:
    await charge(payments, 1)
    await charge(payments, 2)
    status, listed = await payments.get("/internal/payments?order_id=2")
    assert (status, [p["order_id"] for p in listed]) == (200, [2])
    assert await payments.get("/internal/payments?order_id=3") == (200, [])


async def test_a_charge_without_an_idempotency_key_is_a_json_422(payments: Api) -> None:
    status, error = await payments.post("/internal/payments", {"order_id": 1, "amount": 5})
    assert status == 422 and error["error"] == "Invalid request"
    assert await payments.get("/internal/payments?order_id=1") == (200, [])


@pytest.mark.parametrize(
    "body",
    [
        {"order_id": 1, "amount": 0},
        {"order_id": 1, "amount": -5},
        {"order_id": 1, "amount": 1.001},
        {"order_id": 1, "amount": 5, "status": "succeeded"},
        {"order_id": 0, "amount": 5},
        {"amount": 5},
        {"order_id": 1, "amount": 5, "card_number": "4" * 41},
    ],
)
async def test_an_invalid_charge_is_refused_and_nothing_is_written(
    payments: Api, body: dict[str, Any]
) -> None:
    status, error = await payments.post(
        "/internal/payments", body, headers={"Idempotency-Key": "k"}
    )
    assert status == 422 and error["error"] == "Invalid request"
    assert await payments.get("/internal/payments?order_id=1") == (200, [])


async def test_an_idempotency_key_longer_than_200_characters_is_refused(payments: Api) -> None:
    status, error = await charge(payments, 1, key="k" * 201)
    assert status == 422 and error["error"] == "Invalid request"


@pytest.fixture
async def shop(databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[SecureService]:
    """Payments in the default (secure) mode, with the real users service issuing tokens."""
    async with beside_users(databases, tmp_path, "payments", build_app, PaymentsSettings) as secure:
        yield secure


async def test_a_customer_reads_their_own_payment(shop: SecureService) -> None:
    alice_id, alice = await shop.customer("Alice")
    _, paid = await charge(shop.service, 1, user_id=alice_id)
    assert await alice.get(f"/payments/{paid['id']}") == (200, paid)


async def test_another_users_payment_looks_exactly_like_a_missing_one(shop: SecureService) -> None:
    alice_id, _ = await shop.customer("Alice")
    _, bob = await shop.customer("Bob")
    _, paid = await charge(shop.service, 1, user_id=alice_id)
    missing = await bob.get("/payments/999")
    assert missing == (404, {"error": "Payment not found"})
    assert await bob.get(f"/payments/{paid['id']}") == missing


async def test_a_customer_lists_only_their_own_payments_and_an_admin_all(
    shop: SecureService,
) -> None:
    alice_id, alice = await shop.customer("Alice")
    bob_id, bob = await shop.customer("Bob")
    await charge(shop.service, 1, user_id=alice_id)
    await charge(shop.service, 2, user_id=bob_id)
    await charge(shop.service, 3, user_id=alice_id)
    _, alices = await alice.get("/payments")
    _, bobs = await bob.get("/payments")
    _, everyone = await shop.admin.get("/payments?limit=1000")
    assert [p["order_id"] for p in alices] == [1, 3]
    assert [p["order_id"] for p in bobs] == [2]
    assert [p["order_id"] for p in everyone] == [1, 2, 3]
    _, one = await shop.admin.get("/payments?order_id=2")
    assert [p["user_id"] for p in one] == [bob_id]


async def test_without_a_token_the_public_payments_api_is_a_401(shop: SecureService) -> None:
    status, error = await shop.service.get("/payments")
    assert (status, error) == (401, {"error": "Not authenticated"})


async def test_an_internal_route_without_the_service_credential_is_a_401(payments: Api) -> None:
    """Called straight on the service's port, as an attacker on the network would."""
    for headers in ({"X-Service-Token": ""}, {"X-Service-Token": "orders.99999999999.forged"}):
        status, body = await payments.get("/internal/payments?order_id=1", headers=headers)
        assert status == 401 and "Service credential" in body["error"]
    status, _ = await payments.get("/internal/payments?order_id=1")
    assert status == 200
