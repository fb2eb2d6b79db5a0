from decimal import Decimal

import pytest

from microshop.services.payments.domain import (
    AMOUNT_OVER_LIMIT,
    APPROVED,
    CARD_DECLINED,
    INVALID_CARD_NUMBER,
    PaymentStatus,
    card_last4,
    decide,
    declined,
    passes_luhn,
    visible_to,
)

LIMIT = Decimal("10000.00")


@pytest.mark.parametrize(
    "number",
    ["4242424242424242", "4000000000000002", "5555555555554444", "378282246310005"],
)
def test_real_test_card_numbers_pass_the_luhn_check(number: str) -> None:
    assert passes_luhn(number)


@pytest.mark.parametrize(
    "number",
    ["4242424242424241", "1234567890123456", "0", "00000000000", "4242abcd42424242", ""],
)
def test_mistyped_short_or_non_numeric_card_numbers_fail_the_luhn_check(number: str) -> None:
    assert not passes_luhn(number)


@pytest.mark.parametrize(
    ("card", "amount", "decision"),
    [
        ("4242424242424242", "10.00", APPROVED),
        (None, "10.00", APPROVED),
        ("4242 4242 4242 4242", "10.00", APPROVED),
        ("4242-4242-4242-4242", "10.00", APPROVED),
        ("5555555555554444", "10.00", APPROVED),
        ("4242424242424242", "10000.00", APPROVED),
        ("4000000000000002", "10.00", declined(CARD_DECLINED)),
        ("4242424242424241", "10.00", declined(INVALID_CARD_NUMBER)),
        ("not a card", "10.00", declined(INVALID_CARD_NUMBER)),
        ("4242424242424242", "10000.01", declined(AMOUNT_OVER_LIMIT)),
        (None, "10000.01", declined(AMOUNT_OVER_LIMIT)),
        ("4000000000000002", "20000.00", declined(CARD_DECLINED)),
        ("4242424242424241", "20000.00", declined(INVALID_CARD_NUMBER)),
    ],
)
def test_the_processor_decides_each_card_and_amount_as_the_table_says(
    card: str | None, amount: str, decision: object
) -> None:
    assert decide(card, Decimal(amount), LIMIT) == decision


def test_a_decline_carries_its_reason_and_an_approval_none() -> None:
    assert APPROVED.approved and APPROVED.reason is None
    refused = declined(CARD_DECLINED)
    assert (refused.status, refused.reason, refused.approved) == (
        PaymentStatus.DECLINED,
        "Card declined",
        False,
    )


@pytest.mark.parametrize(
    ("card", "last4"),
    [
        ("4242424242424242", "4242"),
        ("4000 0000 0000 0002", "0002"),
        (None, None),
        ("1234", None),
        ("not a card", None),
    ],
)
def test_only_the_last_four_digits_of_a_card_number_are_kept(
    card: str | None, last4: str | None
) -> None:
    assert card_last4(card) == last4


def test_a_customer_sees_only_their_own_payments_and_an_admin_all() -> None:
    assert visible_to(owner_id=7, viewer_id=7, viewer_is_admin=False)
    assert not visible_to(owner_id=7, viewer_id=8, viewer_is_admin=False)
    assert not visible_to(owner_id=None, viewer_id=8, viewer_is_admin=False)
    assert visible_to(owner_id=None, viewer_id=None, viewer_is_admin=True)
