"""What a shopper does in the storefront, for the browser tests: every step through
the page as a person would (labels, button names, the keyboard), and the admin's
API calls that set the shop up for a test.

Screenshots go to build/screenshots, or to MICROSHOP_SCREENSHOTS_DIR:
`MICROSHOP_SCREENSHOTS_DIR=docs/screenshots pytest tests/browser` refreshes the
ones the docs show.
"""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import APIRequestContext, Page, Playwright, expect

from tests.e2e.system import ADMIN_EMAIL, ADMIN_PASSWORD, System
from tests.support.waiting import wait_until

SCREENSHOTS = Path(os.environ.get("MICROSHOP_SCREENSHOTS_DIR", "build/screenshots"))
PASSWORD = "a-long-secret-for-tests"
ORDER_URL = re.compile(r"/orders/(\d+)$")

# Every visible form control without an accessible name (label, aria-label or, for
# a button, its text), and whether the page is wider than the window.
UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')]
  .filter(el => !((el.labels && el.labels.length && el.labels[0].textContent.trim())
                  || el.getAttribute('aria-label')
                  || (el.tagName === 'BUTTON' && el.textContent.trim())))
  .map(el => el.outerHTML)"""
SCROLLS_SIDEWAYS = "() => document.documentElement.scrollWidth > window.innerWidth"


def admin_api(playwright: Playwright, base_url: str) -> APIRequestContext:
    anonymous = playwright.request.new_context(base_url=base_url)
    reply = anonymous.post(
        "/api/auth/token", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert reply.status == 200, reply.text()
    token = reply.json()["access_token"]
    anonymous.dispose()
    return playwright.request.new_context(
        base_url=base_url, extra_http_headers={"Authorization": f"Bearer {token}"}
    )


def create_product(
    admin: APIRequestContext, name: str, price: str = "9.50", stock: int = 10
) -> int:
    reply = admin.post("/api/products", data={"name": name, "price": price, "stock": stock})
    assert reply.status == 201, reply.text()
    return int(reply.json()["id"])


def orders_of(admin: APIRequestContext, email: str) -> list[dict[str, object]]:
    reply = admin.get("/api/orders?limit=100")
    assert reply.status == 200, reply.text()
    return [o for o in reply.json() if o["user"]["email"] == email]


def screenshot(page: Page, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def assert_usable(page: Page) -> None:
    """Every control has an accessible name, and nothing needs sideways scrolling."""
    assert page.evaluate(UNNAMED_CONTROLS) == [], page.url
    assert page.evaluate(SCROLLS_SIDEWAYS) is False, page.url


def register(page: Page, name: str, email: str, shot: str | None = None) -> None:
    page.goto("/account/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    assert_usable(page)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def search(page: Page, text: str) -> None:
    """Types the search and submits it with the Enter key."""
    field = page.get_by_label("Search products")
    field.fill(text)
    field.press("Enter")
    expect(page).to_have_title(re.compile(f"Search: {re.escape(text)}"))


def add_from_list(page: Page, product: str) -> None:
    """Presses the product's `Add to cart` button from the keyboard."""
    button = page.get_by_role("button", name=f"Add to cart: {product}")
    button.focus()
    button.press("Enter")
    expect(page).to_have_url(re.compile(r"/cart$"))


def add_from_product_page(page: Page, product_id: int, quantity: int) -> None:
    page.goto(f"/products/{product_id}")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))


def place_order(page: Page, card: str | None = None) -> int:
    page.goto("/cart")
    if card is not None:
        page.get_by_label("Card number (optional)").fill(card)
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(ORDER_URL)
    match = ORDER_URL.search(page.url)
    assert match is not None
    return int(match.group(1))


@contextmanager
def slow(system: System, service: str, ms: int) -> Iterator[None]:
    """Every request to `service` takes `ms` longer (`microshop chaos delay`), so a
    saga's steps are seconds apart and a page can be seen following them. Keep it
    under the services' call timeout (3 s), or the saga counts the step failed."""
    chaos(system, "delay", service, str(ms))
    try:
        yield
    finally:
        chaos(system, "heal", service)


def chaos(system: System, *args: str) -> None:
    done = system.microshop("chaos", *args, "--data-dir", str(system.data_dir))
    assert done.returncode == 0, done.stdout + done.stderr


def reload_until_visible(page: Page, text: str, timeout: float = 15.0) -> None:
    """For a read model that catches up a moment later: reload until `text` shows."""

    def shown() -> bool:
        page.reload()
        return page.get_by_text(text).count() > 0

    wait_until(shown, timeout, interval=0.3, message=f"{text!r} never showed on {page.url}")


def csrf_token(page: Page) -> str:
    """The CSRF token the page's forms carry (tied to this browser's cookie)."""
    return page.locator("input[name=csrf_token]").first.input_value()


def cart_count(page: Page) -> str:
    page.goto("/cart")
    return page.locator(".count").inner_text()


# A page on another site that posts a form to the shop as soon as it loads: what a
# cross-site request forgery looks like. It cannot know the shopper's token.
ATTACKER_PAGE = """<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="{shop}/cart/items">
<input name="product_id" value="1"><input name="quantity" value="5">
<input name="csrf_token" value="{token}"></form>
<script>document.getElementById("f").submit()</script>"""
