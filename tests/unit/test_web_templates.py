"""The storefront's templates: every value escaped, money exact, times readable."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from microshop.services.web.domain import Cart
from microshop.services.web.peers import Listing, Product
from microshop.services.web.templating import clock, money, render, when

SCRIPT = "<script>alert(1)</script>"


@dataclass
class Url:
    path: str = "/"


@dataclass
class Request:
    url: Url = field(default_factory=Url)


@dataclass
class Page:
    """What a template reads of the request (visit.Visit), and nothing more."""

    visitor: object = None
    cart: Cart = field(default_factory=Cart)
    csrf_token: str = "token"
    request: Request = field(default_factory=Request)


def test_a_product_named_like_a_script_is_rendered_as_text() -> None:
    listing = Listing([Product(1, SCRIPT, Decimal("9.99"), 3)], has_more=False)
    page = render(
        "products.html", page=Page(), search=SCRIPT, number=1, listing=listing, error=None
    )
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'aria-label="Add to cart: &lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_a_quote_in_a_name_cannot_leave_its_attribute() -> None:
    name = '" onfocus="alert(1)'
    listing = Listing([Product(1, name, Decimal("1"), 1)], has_more=False)
    page = render("products.html", page=Page(), search="", number=1, listing=listing, error=None)
    assert 'onfocus="alert(1)' not in page


def test_an_error_message_is_escaped_too() -> None:
    page = render("error.html", page=Page(), title="Not found", message=SCRIPT)
    assert SCRIPT not in page


@pytest.mark.parametrize(
    ("value", "shown"),
    [(999.99, "999.99"), (2, "2.00"), ("1999.98", "1,999.98"), (0.1 + 0.2, "0.30"), ("x", "-")],
)
def test_money_is_shown_with_two_decimals(value: object, shown: str) -> None:
    assert money(value) == shown


def test_times_are_shown_in_utc_as_a_reader_writes_them() -> None:
    assert when("2026-06-01T14:05:09.123Z") == "2026-06-01 14:05 UTC"
    assert clock("2026-06-01T14:05:09.123Z") == "14:05:09"
    assert when(None) == "-"
