from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from microshop.contracts.money import CENT
from microshop.services.orders.domain import (
    ANONYMOUS_CALLER,
    MAX_QUANTITY,
    Caller,
    CannotOrderForAnotherUser,
    OrderLine,
    UserIdRequired,
    customer_for,
    order_total,
    request_fingerprint,
)
from microshop.services.orders.schemas import OrderCreate

prices = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2)
quantities = st.integers(min_value=1, max_value=MAX_QUANTITY)
lines = st.builds(OrderLine, st.integers(1, 1000), st.just("thing"), prices, quantities)

CUSTOMER = Caller(user_id=7, is_admin=False)
ADMIN = Caller(user_id=1, is_admin=True)
OPEN = Caller(user_id=None, is_admin=True)


def test_two_laptops_at_999_99_cost_exactly_1999_98() -> None:
    laptop = OrderLine(1, "Laptop", Decimal("999.99"), 2)
    assert order_total([laptop]) == Decimal("1999.98")


@given(st.lists(lines, min_size=1, max_size=5))
def test_a_total_is_the_exact_decimal_sum_of_its_lines_to_the_cent(
    order_lines: list[OrderLine],
) -> None:
    total = order_total(order_lines)
    exact = sum((line.unit_price * line.quantity for line in order_lines), Decimal(0))
    assert isinstance(total, Decimal)
    assert total == exact.quantize(CENT)
    assert total.as_tuple().exponent == -2


@given(prices, quantities)
def test_a_line_total_never_goes_through_float(price: Decimal, quantity: int) -> None:
    line = OrderLine(1, "thing", price, quantity)
    assert line.line_total == price * quantity
    assert isinstance(line.line_total, Decimal)


def test_an_order_without_lines_costs_nothing() -> None:
    assert order_total([]) == Decimal("0.00")


@pytest.mark.parametrize("quantity", [1, 2, 1000])
def test_a_quantity_between_1_and_1000_is_accepted(quantity: int) -> None:
    assert OrderCreate(product_id=1, quantity=quantity).wanted() == [(1, quantity)]


def test_a_text_field_with_a_nul_character_is_refused() -> None:
    with pytest.raises(ValidationError):
        OrderCreate.model_validate(
            {"product_id": 1, "quantity": 1, "payment": {"card_number": "4242\x004242"}}
        )
    with pytest.raises(ValidationError):
        OrderCreate.model_validate(
            {"product_id": 1, "quantity": 1, "payment": {"card_number": "4242\u00004242"}}
        )


@pytest.mark.parametrize("quantity", [0, -1, 1001, 10001])
def test_an_order_request_outside_the_quantity_bounds_is_refused(quantity: int) -> None:
    with pytest.raises(ValidationError):
        OrderCreate(product_id=1, quantity=quantity)


def test_an_order_request_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        OrderCreate.model_validate({"product_id": 1, "quantity": 1, "total": 0})


def test_a_customer_orders_for_themselves_by_default() -> None:
    assert customer_for(CUSTOMER, None) == 7
    assert customer_for(CUSTOMER, 7) == 7


def test_a_customer_cannot_order_for_another_user() -> None:
    with pytest.raises(CannotOrderForAnotherUser):
        customer_for(CUSTOMER, 8)


def test_an_admin_may_order_for_anyone() -> None:
    assert customer_for(ADMIN, 8) == 8
    assert customer_for(ADMIN, None) == 1


def test_open_mode_has_no_identity_so_the_user_must_be_named() -> None:
    assert customer_for(OPEN, 3) == 3
    with pytest.raises(UserIdRequired):
        customer_for(OPEN, None)


def test_only_the_owner_or_an_admin_may_see_an_order() -> None:
    assert CUSTOMER.may_act_for(7)
    assert not CUSTOMER.may_act_for(8)
    assert ADMIN.may_act_for(8)


def test_anonymous_callers_share_one_idempotency_scope() -> None:
    assert OPEN.idempotency_scope == ANONYMOUS_CALLER
    assert CUSTOMER.idempotency_scope == 7


def test_the_same_request_has_the_same_fingerprint() -> None:
    assert request_fingerprint(1, [(1, 2)]) == request_fingerprint(1, [(1, 2)])
    assert len(request_fingerprint(1, [(1, 2)])) == 64


@pytest.mark.parametrize(
    "other", [(2, [(1, 2)]), (1, [(2, 2)]), (1, [(1, 3)]), (1, [(1, 2), (2, 1)])]
)
def test_any_change_to_customer_product_or_quantity_changes_the_fingerprint(
    other: tuple[int, list[tuple[int, int]]],
) -> None:
    assert request_fingerprint(1, [(1, 2)]) != request_fingerprint(*other)


def test_the_fingerprint_ignores_the_order_of_lines() -> None:
    assert request_fingerprint(1, [(1, 2), (2, 1)]) == request_fingerprint(1, [(2, 1), (1, 2)])
