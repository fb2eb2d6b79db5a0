"""An administrator at the ops console in Chromium: breaks the catalog and watches the
orders service's breaker open and close, replays a dead letter, reads an order's
trace; a customer is turned away; what users typed is shown as text; a form
posted from elsewhere is refused. Each page is photographed into docs/screenshots/."""

import re
import secrets
import time
from typing import Any

import pytest

from tests.browser.ops.helpers import (
    call,
    customer,
    poison_event,
    screenshot,
    sign_in,
    signed_in,
)
from tests.e2e.system import ADMIN_EMAIL, ADMIN_PASSWORD, System

pytestmark = pytest.mark.timeout(300)
LAPTOP = 1
WAIT = "wait=10"
LIVE_S = 20_000  # ms: a live update comes every 2 s; a restart takes a few
FORGED = {"service": "catalog", "action": "stop"}
# A customer's name is theirs to choose: the console shows it as text.
SCRIPTED_NAME = "<script>window.pwned = 3</script>Tracy"
EVERY_SERVICE_OF_AN_ORDER = {
    "orders",
    "payments",
    "catalog",
    "shipping",
    "order_history",
    "notifications",
}


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def breaker(page: Any, service: str, peer: str) -> Any:
    return page.locator(f'tr[data-service="{service}"] .breaker[data-peer="{peer}"]')


def state_of(page: Any, service: str) -> Any:
    return page.locator(f'tr[data-service="{service}"] .state')


def place_order(system: System, token: str, **headers: str) -> tuple[int, Any]:
    return call(
        system,
        "POST",
        "/api/orders",
        {"product_id": LAPTOP, "quantity": 1},
        token,
        Prefer=WAIT,
        **headers,
    )


def test_stopping_the_catalog_opens_the_orders_breaker_and_starting_it_closes_it(
    admin_page: Any, system: System
) -> None:
    page = admin_page
    _, shopper = customer(system, "Casey")
    assert place_order(system, shopper)[0] == 201  # the breaker exists, closed
    page.reload()
    expect(breaker(page, "orders", "catalog")).to_have_text("catalog: closed")
    screenshot(page, "ops-overview")

    page.get_by_role("button", name="Stop catalog").click()
    expect(page.get_by_role("status")).to_contain_text("catalog: SIGKILLed and kept down")
    expect(state_of(page, "catalog")).to_have_text("stopped", timeout=LIVE_S)

    status, refused = place_order(system, shopper)
    assert status == 503, refused
    expect(breaker(page, "orders", "catalog")).to_have_text("catalog: open", timeout=LIVE_S)
    screenshot(page, "ops-breaker-open")

    page.get_by_role("button", name="Start catalog").click()
    expect(page.get_by_role("status")).to_contain_text("catalog: started again")
    expect(state_of(page, "catalog")).to_have_text("running", timeout=LIVE_S)
    # Once the breaker lets a trial call through, the next order closes it.
    deadline = time.monotonic() + 30
    while place_order(system, shopper)[0] != 201:
        assert time.monotonic() < deadline, "no order went through after the catalog came back"
        page.wait_for_timeout(500)
    expect(breaker(page, "orders", "catalog")).to_have_text("catalog: closed", timeout=LIVE_S)


def test_a_dead_letter_shows_its_error_and_is_replayed_from_the_console(
    admin_page: Any, system: System
) -> None:
    page = admin_page
    marker = "<script>window.pwned = 1</script>"
    event_id = poison_event(system, marker)
    letter = page.locator("tr[data-letter]", has_text=event_id).first
    expect(letter).to_be_visible(timeout=30_000)
    # The error, with the poison's own text in it, is shown as text.
    expect(letter.locator(".error")).to_contain_text("not a valid 'order.created' event")
    expect(letter.locator(".error")).to_contain_text(marker)
    assert page.evaluate("window.pwned") is None
    screenshot(page, "ops-dead-letters")
    replayed_id = letter.get_attribute("data-letter")

    letter.get_by_role("button", name=re.compile(r"^Replay dead letter")).click()

    expect(page.get_by_role("status")).to_contain_text(
        f"Dead letter {replayed_id} was put back on the bus"
    )
    expect(page.locator(f'tr[data-letter="{replayed_id}"]')).to_have_count(0)


def test_an_orders_trace_shows_its_spans_from_every_service_it_touched(
    admin_page: Any, system: System
) -> None:
    page = admin_page
    _, shopper = customer(system, SCRIPTED_NAME)
    trace_id = secrets.token_hex(16)
    status, order = place_order(
        system, shopper, traceparent=f"00-{trace_id}-{secrets.token_hex(8)}-01"
    )
    assert status == 201 and order["status"] == "approved", order

    # The console finds the order by its id, typed and submitted from the keyboard.
    page.get_by_label("Order id").fill(str(order["id"]))
    page.get_by_label("Order id").press("Enter")
    page.wait_for_url(f"{system.url}/ops/orders/{order['id']}", wait_until="domcontentloaded")
    expect(page.locator(".timeline")).to_contain_text("shipping succeeded")
    expect(page.locator("main")).to_contain_text(f"{SCRIPTED_NAME} ordered 1 line(s)")
    assert page.evaluate("window.pwned") is None
    # Spans reach the ops service within a second or two of their end: look again.
    waterfall = page.locator(f'figure.waterfall[data-trace="{trace_id}"]')

    def services() -> set[str]:
        shown = waterfall.locator("li.span").evaluate_all("s => s.map(e => e.dataset.service)")
        return set(shown)

    deadline = time.monotonic() + 30
    while not services() >= EVERY_SERVICE_OF_AN_ORDER:
        assert time.monotonic() < deadline, f"the order's trace has only {services()}"
        page.wait_for_timeout(500)
        page.reload()
    expect(waterfall.locator("figcaption")).to_contain_text(f"from {len(services())} services")
    screenshot(page, "ops-order-trace")


def test_a_customer_gets_a_403_page_and_the_sign_in_page_works_by_keyboard(
    browser: Any, system: System
) -> None:
    _, shopper = customer(system, "Cora")
    status, page_html = call(system, "GET", "/ops", token=shopper)
    assert status == 403
    assert "Administrators only" in page_html and "<html" in page_html

    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.goto(f"{system.url}/ops")
    page.wait_for_url(f"{system.url}/ops/login", wait_until="domcontentloaded")
    screenshot(page, "ops-sign-in")
    # By keyboard alone: the skip link, then the form in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("E-mail").focus()
    page.keyboard.type(f"{abs(hash('Cora')) % 10**8}@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("customer-password-1")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Administrators only")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "ops-forbidden")
    context.close()


def test_the_overview_fits_a_phone_and_labels_every_control(browser: Any, system: System) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, system, ADMIN_EMAIL, ADMIN_PASSWORD)
    signed_in(page, system)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), button, select')]
             .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                          && !e.textContent.trim())
             .map(e => e.outerHTML)"""
    )
    assert unlabelled == []
    assert page.evaluate("document.body.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "ops-phone")
    context.close()


def test_a_form_posted_without_the_consoles_csrf_token_is_refused(
    admin_page: Any, system: System
) -> None:
    page = admin_page
    for form in (FORGED, {**FORGED, "csrf": "0" * 32}):
        refused = page.request.post(f"{system.url}/ops/chaos", form=form, max_redirects=0)
        assert refused.status == 400
        assert "CSRF check failed" in refused.text()
    page.reload()
    expect(state_of(page, "catalog")).to_have_text("running")


def test_bad_input_gets_a_readable_page_never_a_server_error(
    admin_page: Any, system: System
) -> None:
    page = admin_page
    for path, status, sentence in (
        ("/ops/orders/abc", 400, "An order id is a whole number"),
        ("/ops/orders/999999", 404, "knows no order 999999"),
        ("/ops/traces/xyz", 400, "A trace id is 32 hexadecimal digits"),
        ("/ops/traces/" + "a" * 32, 404, "This trace is not kept"),
    ):
        reply = page.goto(system.url + path)
        assert reply.status == status, path
        expect(page.locator(".problem")).to_contain_text(sentence)
    csrf = page.context.cookies(system.url + "/ops")
    token = next(c["value"] for c in csrf if c["name"] == "ops_csrf")
    reply = page.request.post(
        f"{system.url}/ops/chaos",
        form={"service": "catalog", "action": "delay", "value": "lots", "csrf": token},
        max_redirects=0,
    )
    assert reply.status == 400 and "must be a number" in reply.text()
