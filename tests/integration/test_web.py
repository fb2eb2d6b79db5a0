"""The storefront (web service) over real HTTP, in front of the real users, catalog,
orders, payments and shipping services: its cookies, its CSRF refusals, escaping,
one order per Idempotency-Key, and a readable page for every failure."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from fastapi.routing import APIRoute

from microshop.services.web.main import PAGES, WebSettings
from microshop.services.web.main import build_app as build_web
from tests.support.shop import PASSWORD, Served, Shop, running_shop

CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
KEY_FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')


# One shop and one storefront for the module (the storefront has no data of its own
# to test on other engines: SQLite only).
pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Browser:
    """A visitor: one cookie jar, redirects left for the test to see."""

    http: aiohttp.ClientSession
    base: str

    async def get(self, path: str, **kw: Any) -> tuple[int, str, Any]:
        async with self.http.get(self.base + path, allow_redirects=False, **kw) as reply:
            return reply.status, await reply.text(), reply.headers

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str, Any]:
        async with self.http.post(self.base + path, data=form, allow_redirects=False) as reply:
            return reply.status, await reply.text(), reply.headers

    async def token(self, path: str = "/account/register") -> str:
        status, page, _ = await self.get(path)
        found = CSRF_FIELD.search(page)
        assert status == 200 and found, page
        return found.group(1)

    def cookie(self, name: str) -> Any:
        return next((c for c in self.http.cookie_jar if c.key == name), None)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    tmp_path = tmp_path_factory.mktemp("web")

    @asynccontextmanager
    async def sqlite(service: str) -> AsyncIterator[str]:
        yield f"sqlite:///{tmp_path / 'data' / f'{service}.db'}"

    async with running_shop("sqlite", sqlite, tmp_path, open_mode=False) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def storefront(shop: Shop, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    tmp_path = tmp_path_factory.mktemp("storefront")
    peers = {**shop.peers, "orders": shop.services["orders"].url}
    settings = WebSettings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'data' / 'web.db'}",
        peers=peers,
        # Few failures in a row open no breaker: a test stops the catalog on purpose.
        breaker_failures=100,
    )
    web = Served(build_web, settings)
    await web.start()
    try:
        yield web.url
    finally:
        await web.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def visitor(storefront: str) -> AsyncIterator[Browser]:
    # unsafe: keep cookies for an IP address (127.0.0.1), as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Browser(http, storefront)


async def register(visitor: Browser, name: str, email: str) -> tuple[int, str, Any]:
    form = {"name": name, "email": email, "password": PASSWORD, "confirm": PASSWORD}
    return await visitor.post(
        "/account/register", {**form, "csrf_token": await visitor.token(), "next": "/cart"}
    )


async def test_registering_keeps_the_apis_token_in_an_httponly_samesite_cookie(
    visitor: Browser, shop: Shop
) -> None:
    status, _, headers = await register(visitor, "Ada", "ada@example.com")

    assert (status, headers["Location"]) == (303, "/cart")
    session = visitor.cookie("microshop_session")
    assert session["httponly"] and session["samesite"].lower() == "lax"
    assert session["path"] == "/" and not session["secure"]
    status, orders = await shop.orders.as_user(session.value).get("/orders")
    assert (status, orders) == (200, []), "the same token the API takes"
    _, page, _ = await visitor.get("/cart")
    assert 'Signed in as <span class="who">Ada</span>' in page


async def test_a_post_without_the_visitors_own_token_is_refused_with_a_page(
    visitor: Browser, storefront: str
) -> None:
    await visitor.token()
    for form in ({"product_id": "1"}, {"product_id": "1", "csrf_token": "0" * 64}):
        status, page, headers = await visitor.post("/cart/items", form)
        assert status == 403 and headers["Content-Type"].startswith("text/html")
        assert "This form could not be accepted" in page
    assert visitor.cookie("microshop_cart") is None


def form_posts() -> list[str]:
    """Every path the storefront takes a POST on, with 1 for each id in it."""
    paths = [
        route.path
        for router in PAGES
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    ]
    return [re.sub(r"\{\w+\}", "1", path) for path in paths]


async def test_every_form_post_is_refused_without_the_visitors_token(visitor: Browser) -> None:
    await register(visitor, "Hedy", "hedy@example.com")
    posts = form_posts()
    assert len(posts) >= 7, posts

    for path in posts:
        status, page, _ = await visitor.post(path, {"product_id": "1", "quantity": "1"})
        assert status == 403 and "This form could not be accepted" in page, path
    assert visitor.cookie("microshop_session") is not None, "still signed in"


async def test_a_post_the_browser_marks_cross_site_is_refused_before_its_form_is_read(
    visitor: Browser,
) -> None:
    token = await visitor.token()
    async with visitor.http.post(
        visitor.base + "/cart/items",
        data={"product_id": "1", "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
        allow_redirects=False,
    ) as reply:
        assert reply.status == 403


async def test_a_product_named_like_a_script_is_served_as_text(
    visitor: Browser, shop: Shop
) -> None:
    status, product = await shop.catalog.post(
        "/products", {"name": "<script>alert(1)</script>", "price": 5, "stock": 5}
    )
    assert status == 201, product

    for path in ("/?q=script", f"/products/{product['id']}"):
        status, page, headers = await visitor.get(path)
        assert status == 200
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
        assert "script-src 'self'" in headers["Content-Security-Policy"]


async def test_one_checkout_form_sent_twice_places_one_order(visitor: Browser, shop: Shop) -> None:
    email = "edsger@example.com"
    await register(visitor, "Edsger", email)
    token = await visitor.token("/products/1")
    status, _, _ = await visitor.post(
        "/cart/items", {"csrf_token": token, "product_id": "1", "quantity": "2"}
    )
    assert status == 303
    _, cart_page, _ = await visitor.get("/cart")
    key = KEY_FIELD.search(cart_page)
    assert key, cart_page
    form = {"csrf_token": token, "cart": "1x2", "idempotency_key": key.group(1)}

    first = await visitor.post("/checkout", form)
    second = await visitor.post("/checkout", form)

    assert first[0] == second[0] == 303
    assert first[2]["Location"] == second[2]["Location"]
    assert [o["user"]["email"] for o in await shop.all_orders()].count(email) == 1
    assert visitor.cookie("microshop_cart") is None, "the cart is emptied"


async def test_an_unreachable_catalog_is_a_page_that_says_so(visitor: Browser, shop: Shop) -> None:
    await shop.stop_catalog()
    try:
        status, page, headers = await visitor.get("/")
    finally:
        await shop.services["catalog"].start()

    assert status == 503 and headers["Content-Type"].startswith("text/html")
    assert "The catalog service is not answering right now" in page
    assert headers["Retry-After"]


async def test_a_forged_session_is_signed_out_and_sent_to_sign_in_and_back(
    visitor: Browser,
) -> None:
    token = await visitor.token()
    visitor.http.cookie_jar.update_cookies({"microshop_session": "not.a.token"})

    asked = [
        await visitor.get("/orders?page=2"),
        await visitor.post("/checkout", {"csrf_token": token}),
        await visitor.post("/orders/5/cancel", {"csrf_token": token}),
    ]

    assert [status for status, _, _ in asked] == [303, 303, 303]
    assert [headers["Location"] for _, _, headers in asked] == [
        "/account/sign-in?next=%2Forders%3Fpage%3D2",
        "/account/sign-in?next=%2Fcart",
        "/account/sign-in?next=%2Forders%2F5",
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/products/99999999999"),
        ("GET", "/products/-1"),
        ("GET", "/?page=abc&q=" + "x" * 300),
        ("GET", "/?q=a+b+c+d+e+f+g"),
        ("GET", "/orders/0"),
        ("GET", "/static/../main.py"),
        ("GET", "/account/sign-in?next=//evil.example"),
        ("POST", "/cart/items/abc"),
        ("POST", "/checkout"),
        ("PUT", "/cart"),
    ],
)
async def test_odd_requests_get_a_readable_page_and_never_a_server_error(
    visitor: Browser, method: str, path: str
) -> None:
    async with visitor.http.request(
        method, visitor.base + path, data={"x": "1"}, allow_redirects=False
    ) as reply:
        page = await reply.text()
        assert reply.status < 500, page
        if reply.status != 303:
            assert reply.headers["Content-Type"].startswith("text/html")
            assert "Traceback" not in page and '{"error"' not in page
