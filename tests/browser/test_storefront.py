"""A shopper in Chromium, through the gateway of a whole running system: registering,
signing in, searching, a cart of two products, an order followed live from pending
to approved, one beyond the stock rejected with its reason, a cancel, the order
history from the read model, a double submit that places one order, and all of it
at a phone's width, by keyboard, and without JavaScript."""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import APIRequestContext, Page, expect

from tests.browser.storefront import (
    add_from_list,
    add_from_product_page,
    assert_usable,
    create_product,
    orders_of,
    place_order,
    register,
    reload_until_visible,
    screenshot,
    search,
    sign_in,
    sign_out,
    slow,
)
from tests.e2e.system import System

pytestmark = pytest.mark.timeout(240)
TIMES = "\u00d7"


def unique_email(name: str) -> str:
    return f"{name}-{uuid4().hex[:8]}@example.com"


def test_a_shopper_registers_signs_in_orders_two_products_and_sees_it_approved_live(
    phone: Page, system: System, admin: APIRequestContext
) -> None:
    page = phone
    email = unique_email("ada")
    register(page, "Ada Lovelace", email, shot="register")
    sign_out(page)
    sign_in(page, email)
    expect(page.get_by_text("Signed in as Ada Lovelace")).to_be_visible()

    search(page, "mouse")
    expect(page.get_by_role("heading", level=2)).to_have_text(["Mouse"])
    assert_usable(page)
    screenshot(page, "search")
    add_from_list(page, "Mouse")
    page.goto("/")
    search(page, "keyboard")
    add_from_list(page, "Keyboard")
    expect(page.locator(".line h2")).to_have_text(["Mouse", "Keyboard"])
    expect(page.get_by_text("Total: 109.98")).to_be_visible()
    assert_usable(page)
    screenshot(page, "cart")

    # Every call to shipping takes 1.5 s: the saga's last step is seen arriving.
    with slow(system, "shipping", 1500):
        order_id = place_order(page)
        expect(page.locator("#order-status .badge")).to_have_text("pending")
        page.evaluate("window.stillTheSamePage = true")
        expect(page.locator("#order-status .badge")).to_have_text("approved")
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded"
    expect(page.locator(".steps")).to_contain_text("Shipment done: tracking")
    expect(page.get_by_role("button", name="Cancel this order")).to_be_visible()
    assert_usable(page)
    screenshot(page, "order-approved")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My orders").click()
    reload_until_visible(page, f"Order #{order_id}")
    expect(page.locator(".past").first).to_contain_text(f"1 {TIMES} Mouse, 1 {TIMES} Keyboard")
    assert_usable(page)
    screenshot(page, "order-history")
    assert [o["id"] for o in orders_of(admin, email)] == [order_id]


def test_an_order_beyond_the_stock_is_shown_rejected_with_the_reason(
    phone: Page, admin: APIRequestContext
) -> None:
    lamp = create_product(admin, "Brass lamp", price="40.00", stock=2)
    register(phone, "Grace Hopper", unique_email("grace"))
    add_from_product_page(phone, lamp, 3)

    place_order(phone)

    expect(phone.locator("#order-status .badge")).to_have_text("rejected")
    expect(phone.locator(".reason")).to_have_text("Reason: Out of stock")
    expect(phone.locator(".steps")).to_contain_text("Stock reservation failed: Out of stock")
    expect(phone.locator(".steps")).to_contain_text("Payment undone: refunded")
    expect(phone.get_by_role("button", name="Cancel this order")).to_have_count(0)
    screenshot(phone, "order-rejected")


def test_a_shopper_cancels_an_approved_order_and_sees_it_cancelled(phone: Page) -> None:
    register(phone, "Alan Turing", unique_email("alan"))
    add_from_product_page(phone, 3, 1)
    place_order(phone)
    expect(phone.locator("#order-status .badge")).to_have_text("approved")

    phone.get_by_role("button", name="Cancel this order").click()

    expect(phone.locator("#order-status .badge")).to_have_text("cancelled")
    expect(phone.locator(".steps")).to_contain_text("Shipment undone")


def test_a_double_submitted_order_form_places_one_order(
    desktop: Page, admin: APIRequestContext
) -> None:
    email = unique_email("edsger")
    register(desktop, "Edsger Dijkstra", email)
    add_from_product_page(desktop, 2, 2)
    desktop.goto("/cart")
    form = desktop.locator("form.checkout")
    fields = {
        name: form.locator(f"input[name={name}]").input_value()
        for name in ("csrf_token", "cart", "idempotency_key", "card_number")
    }

    # The same form twice, as a double click sends it, with the page's cookies.
    answers = [desktop.request.post("/checkout", form=fields, max_redirects=0) for _ in range(2)]

    locations = [a.headers["location"] for a in answers]
    assert [a.status for a in answers] == [303, 303]
    assert locations[0] == locations[1] and ORDER_PATH.match(locations[0]), locations
    assert len(orders_of(admin, email)) == 1


ORDER_PATH = re.compile(r"^/orders/\d+$")


def test_browsing_and_ordering_work_without_javascript(no_script: Page) -> None:
    page = no_script
    register(page, "Barbara Liskov", unique_email("barbara"))
    page.goto("/products/2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".line h2")).to_have_text(["Mouse"])

    place_order(page)

    # The page refreshes itself (<noscript>) until the saga is done.
    expect(page.locator("#order-status .badge")).to_have_text("approved")


def test_the_product_list_pages_through_a_search_by_keyboard(
    desktop: Page, admin: APIRequestContext
) -> None:
    for n in range(14):
        create_product(admin, f"Pagination teapot {n:02}", price="12.00")
    desktop.goto("/")
    desktop.keyboard.press("Tab")
    expect(desktop.get_by_role("link", name="Skip to the content")).to_be_focused()
    screenshot(desktop, "products")

    search(desktop, "pagination teapot")
    expect(desktop.locator(".product")).to_have_count(12)
    desktop.get_by_role("link", name="Next page").click()
    expect(desktop.locator(".product h2")).to_have_text(
        ["Pagination teapot 12", "Pagination teapot 13"]
    )
    expect(desktop.get_by_role("link", name="Next page")).to_have_count(0)
    desktop.get_by_role("link", name="Previous page").click()
    expect(desktop.locator(".product")).to_have_count(12)
    desktop.locator(".product h2 a").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text("Pagination teapot")
    assert_usable(desktop)
    screenshot(desktop, "product")
