"""A shopper in Chromium, through the gateway of a whole running system: registering,
signing in, searching, a cart of two products, an order followed live from pending
to approved, one beyond the stock rejected with its reason, a cancel, the order
history from the read model, a double submit that places one order, and all of it
at a phone's width, by keyboard, and without JavaScript."""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import APIRequestContext, Browser, Page, expect

from tests.browser.storefront import (
    ATTACKER_PAGE,
    add_from_list,
    add_from_product_page,
    assert_usable,
    cart_count,
    create_product,
    csrf_token,
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
# Fourteen products: more than one page of twelve.
TEAPOTS = (
    "Blue ceramic",
    "Cast-iron",
    "Glass",
    "Copper",
    "Porcelain",
    "Clay",
    "Stoneware",
    "Silver",
    "Bamboo-handled",
    "Enamel",
    "Travel",
    "Yixing",
    "Moroccan",
    "Tiny",
)


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

    # Every call to shipping takes 2 s: the saga's last step is seen arriving.
    with slow(system, "shipping", 2000):
        order_id = place_order(page)
        expect(page.locator("#order-status .badge")).to_have_text("pending")
        page.evaluate("window.stillTheSamePage = true")
        expect(page.locator("#order-status .badge")).to_have_text("approved")
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded"
    expect(page.locator(".steps")).to_contain_text("Shipment done: tracking")
    expect(page.get_by_role("button", name="Cancel this order")).to_be_visible()
    assert_usable(page)
    screenshot(page, "order-approved")
    screenshot(page, "storefront", full_page=False)  # the README's

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


def test_browsing_and_ordering_work_without_javascript(no_script: Page, system: System) -> None:
    page = no_script
    register(page, "Barbara Liskov", unique_email("barbara"))
    page.goto("/products/2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".line h2")).to_have_text(["Mouse"])

    with slow(system, "shipping", 2000):
        place_order(page)
        # No script runs: the page refreshes itself (<noscript>) until the saga is done.
        expect(page.locator("#order-status .badge")).to_have_text("pending")
        expect(page.locator("#order-status .badge")).to_have_text("approved")


def test_the_product_list_pages_through_a_search_by_keyboard(
    desktop: Page, admin: APIRequestContext
) -> None:
    for n, kind in enumerate(TEAPOTS):
        create_product(admin, f"{kind} teapot", price=f"{12 + n}.50", stock=5 + n)
    desktop.goto("/")
    desktop.keyboard.press("Tab")
    expect(desktop.get_by_role("link", name="Skip to the content")).to_be_focused()

    search(desktop, "teapot")
    expect(desktop.locator(".product")).to_have_count(12)
    screenshot(desktop, "products")
    desktop.get_by_role("link", name="Next page").click()
    expect(desktop.locator(".product h2")).to_have_text([f"{k} teapot" for k in TEAPOTS[12:]])
    expect(desktop.get_by_role("link", name="Next page")).to_have_count(0)
    desktop.get_by_role("link", name="Previous page").click()
    expect(desktop.locator(".product")).to_have_count(12)
    desktop.locator(".product h2 a").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text(f"{TEAPOTS[0]} teapot")
    assert_usable(desktop)
    screenshot(desktop, "product")


def test_names_with_markup_are_shown_as_text_and_never_run(
    phone: Page, admin: APIRequestContext
) -> None:
    dialogs: list[str] = []
    phone.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    product = "<script>alert(1)</script> Mug"
    shopper = '<img src=x onerror="alert(2)">'
    mug = create_product(admin, product)
    register(phone, shopper, unique_email("mallory"))

    search(phone, "mug")
    expect(phone.locator(".product h2")).to_have_text([product])
    add_from_product_page(phone, mug, 1)
    expect(phone.locator(".line h2")).to_have_text([product])
    place_order(phone)
    expect(phone.locator(".items tbody td").first).to_have_text(product)
    expect(phone.get_by_text(f"Signed in as {shopper}.")).to_be_visible()

    assert phone.locator("img").count() == 0
    assert phone.locator("script:not([src])").count() == 0
    assert dialogs == []


def test_a_form_from_another_site_is_refused_and_changes_nothing(
    phone: Page, system: System
) -> None:
    phone.goto("/")
    token = csrf_token(phone)
    assert cart_count(phone) == "(0)"
    attacker = ATTACKER_PAGE.format(shop=system.url, token=token)
    phone.route(
        "http://attacker.test/",
        lambda route: route.fulfill(body=attacker, content_type="text/html"),
    )

    with phone.expect_response(f"{system.url}/cart/items") as answer:
        phone.goto("http://attacker.test/")

    assert answer.value.status == 403
    expect(phone.get_by_role("alert")).to_contain_text("This form could not be accepted")
    assert cart_count(phone) == "(0)"


def test_a_form_without_its_own_visitors_token_is_refused(
    browser: Browser, system: System, phone: Page
) -> None:
    phone.goto("/")
    other = browser.new_context(base_url=system.url)
    stranger = other.new_page()
    stranger.goto("/")
    strangers_token = csrf_token(stranger)
    other.close()

    for token in (None, strangers_token):
        form = {"product_id": "1", "quantity": "1"} | ({"csrf_token": token} if token else {})
        answer = phone.request.post("/cart/items", form=form, max_redirects=0)
        assert answer.status == 403
        assert answer.headers["content-type"].startswith("text/html")
        assert "This form could not be accepted" in answer.text()
    assert cart_count(phone) == "(0)"


def test_mistakes_are_answered_with_a_sentence_on_a_page(phone: Page) -> None:
    email = unique_email("ken")
    register(phone, "Ken Thompson", email)
    sign_out(phone)

    sign_in(phone, email, "not-the-password")
    expect(phone.get_by_role("alert")).to_have_text(
        "That e-mail address and password do not match an account."
    )
    assert_usable(phone)
    screenshot(phone, "sign-in")
    register_again = phone.request.post(
        "/account/register",
        form={
            "csrf_token": csrf_token(phone),
            "name": "Ken",
            "email": email,
            "password": "another-password",
            "confirm": "another-password",
        },
    )
    assert register_again.status == 422
    assert "An account with this e-mail address exists already" in register_again.text()
    bad_quantity = phone.request.post(
        "/cart/items", form={"csrf_token": csrf_token(phone), "product_id": "1", "quantity": "x"}
    )
    assert bad_quantity.status == 422
    assert "The quantity must be a whole number from 1 to 1000." in bad_quantity.text()

    answer = phone.goto("/products/999999")
    assert answer is not None and answer.status == 404
    expect(phone.get_by_role("alert")).to_have_text(
        "There is no such product (it may have been removed)."
    )
    screenshot(phone, "error")
