"""The storefront's cart: lines in the order added, bounded like an order, and a
cookie that is either a cart or nothing (never an error)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microshop.services.web.domain import MAX_LINES, MAX_QUANTITY, Cart, CartLine, FormError


def test_adding_a_product_twice_adds_up_its_quantity_on_one_line() -> None:
    cart = Cart().add(3, 1).add(1, 2).add(3, 4)
    assert cart.lines == (CartLine(3, 5), CartLine(1, 2))
    assert cart.count == 7


def test_setting_a_quantity_replaces_it_and_zero_removes_the_line() -> None:
    cart = Cart().add(3, 1).add(1, 2)
    assert cart.set(1, 9).lines == (CartLine(3, 1), CartLine(1, 9))
    assert cart.set(3, 0).lines == (CartLine(1, 2),)
    assert cart.set(42, 0) == cart


def test_a_cart_refuses_more_of_one_product_than_an_order_may_hold() -> None:
    cart = Cart().add(1, MAX_QUANTITY)
    with pytest.raises(FormError, match="at most 1000 of one product"):
        cart.add(1, 1)


def test_a_cart_refuses_more_products_than_an_order_may_hold() -> None:
    cart = Cart()
    for product_id in range(1, MAX_LINES + 1):
        cart = cart.add(product_id, 1)
    with pytest.raises(FormError, match="at most 50 different products"):
        cart.add(MAX_LINES + 1, 1)
    assert cart.add(1, 1).quantity_of(1) == 2, "a product already there may still grow"


def test_the_cookie_holds_product_and_quantity_pairs() -> None:
    cart = Cart().add(3, 2).add(1, 1)
    assert cart.encode() == "3x2.1x1"
    assert Cart.decode("3x2.1x1") == cart
    assert Cart().encode() == ""


@pytest.mark.parametrize(
    "cookie",
    [None, "", "garbage", "1x0", "0x1", "1x1001", "1x2.", "1x2.x3", "99999999999x1", "1x-1"],
)
def test_a_cookie_that_is_not_a_cart_is_an_empty_cart(cookie: str | None) -> None:
    assert Cart.decode(cookie) == Cart()


def test_a_repeated_product_in_a_cookie_keeps_its_first_line() -> None:
    assert Cart.decode("1x2.1x5").lines == (CartLine(1, 2),)


@given(
    st.lists(
        st.tuples(st.integers(1, 2**31 - 1), st.integers(1, MAX_QUANTITY)),
        max_size=MAX_LINES,
        unique_by=lambda line: line[0],
    )
)
def test_every_cart_survives_its_cookie(lines: list[tuple[int, int]]) -> None:
    cart = Cart()
    for product_id, quantity in lines:
        cart = cart.add(product_id, quantity)
    assert Cart.decode(cart.encode()) == cart
