"""What the storefront asks the other services, through their public HTTP APIs and
the chassis client only (never a database, never another service's code).

Each call's refusal becomes a sentence a shopper can read: a FormError for what the
shopper can correct in the form they sent, a contracts error (NotFound, Conflict,
...) for the page to show. A peer that cannot answer raises Unavailable in the
client; the error page says which part of the shop is away.
"""

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from microshop.chassis.client import Reply, ServiceClient
from microshop.contracts.errors import BadUpstream, Conflict, Invalid, NotFound, Unauthorized
from microshop.services.web.domain import Cart, FormError, Registration


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    name: str
    price: Decimal
    stock: int


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Listing:
    items: list[Any]
    has_more: bool


class SessionExpired(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Your session has expired: please sign in again.")


def _product(body: dict[str, Any]) -> Product:
    return Product(int(body["id"]), str(body["name"]), Decimal(str(body["price"])), body["stock"])


def _message(reply: Reply, default: str) -> str:
    body = reply.body if isinstance(reply.body, dict) else {}
    return str(body.get("error") or default)


def _unexpected(service: str, reply: Reply) -> BadUpstream:
    return BadUpstream(f"The {service} service gave an unexpected answer ({reply.status}).")


def _check_signed_in(reply: Reply) -> None:
    if reply.status == 401:
        raise SessionExpired


async def list_products(client: ServiceClient, search: str, page: int, size: int) -> Listing:
    # One more than a page: whether a next page exists, without counting them all.
    query = {"q": search, "limit": str(size + 1), "offset": str((page - 1) * size)}
    path = "/products?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items() if v)
    reply = await client.get("catalog", path)
    if reply.status == 422:
        raise FormError(f"That search cannot be run: {_message(reply, 'invalid search')}.")
    if not reply.ok:
        raise _unexpected("catalog", reply)
    products = [_product(p) for p in reply.body]
    return Listing(products[:size], len(products) > size)


async def get_product(client: ServiceClient, product_id: int) -> Product:
    reply = await client.get("catalog", f"/products/{product_id}")
    if reply.status == 404:
        raise NotFound("There is no such product (it may have been removed).")
    if not reply.ok:
        raise _unexpected("catalog", reply)
    return _product(reply.body)


async def products_in(client: ServiceClient, cart: Cart) -> dict[int, Product | None]:
    """Each product of the cart, or None where the catalog no longer has it."""

    async def one(product_id: int) -> Product | None:
        try:
            return await get_product(client, product_id)
        except NotFound:
            return None

    ids = [line.product_id for line in cart.lines]
    return dict(zip(ids, await asyncio.gather(*(one(i) for i in ids)), strict=True))


async def register(client: ServiceClient, new: Registration) -> None:
    body = {"name": new.name, "email": new.email, "password": new.password}
    reply = await client.post("users", "/users", json=body)
    if reply.status == 409:
        raise FormError("An account with this e-mail address exists already: please sign in.")
    if reply.status == 422:
        raise FormError(_first_detail(reply, "The users service refused these details."))
    if reply.status != 201:
        raise _unexpected("users", reply)


def _first_detail(reply: Reply, default: str) -> str:
    body = reply.body if isinstance(reply.body, dict) else {}
    details = body.get("details") or []
    if details and isinstance(details[0], dict):
        field = str(details[0].get("field") or "a field").replace("_", " ")
        return f"Please check {field}: {details[0].get('message', 'it is not valid')}."
    return str(body.get("error") or default)


async def sign_in(client: ServiceClient, email: str, password: str) -> Session:
    reply = await client.post("users", "/auth/token", json={"email": email, "password": password})
    if reply.status in (401, 422):
        raise FormError("That e-mail address and password do not match an account.")
    if not reply.ok:
        raise _unexpected("users", reply)
    return Session(str(reply.body["access_token"]), int(reply.body["expires_in"]))


async def place_order(
    client: ServiceClient,
    token: str,
    user_id: int | None,
    cart: Cart,
    card: str | None,
    idempotency_key: str,
) -> int:
    """The new order's id. A second post with the same key (a double click, a
    retried submit) gets the first order back instead of a second one."""
    body: dict[str, Any] = {
        "items": [{"product_id": ln.product_id, "quantity": ln.quantity} for ln in cart.lines]
    }
    if user_id is not None:
        body["user_id"] = user_id  # open mode knows the customer only from the body
    if card is not None:
        body["payment"] = {"card_number": card}
    reply = await client.post(
        "orders",
        "/orders",
        json=body,
        token=token,
        headers={"Idempotency-Key": idempotency_key},
    )
    _check_signed_in(reply)
    if reply.status == 404:
        raise Conflict("A product in your cart is no longer sold: please remove it and retry.")
    if reply.status == 422:
        raise Invalid(_first_detail(reply, "The order was refused."))
    if reply.status != 201:
        raise _unexpected("orders", reply)
    return int(reply.body["id"])


async def get_order(client: ServiceClient, token: str, order_id: int) -> dict[str, Any]:
    reply = await client.get("orders", f"/orders/{order_id}", token=token)
    _check_signed_in(reply)
    if reply.status == 404:
        raise NotFound("There is no such order among yours.")
    if not reply.ok:
        raise _unexpected("orders", reply)
    return reply.body  # type: ignore[no-any-return]


async def cancel_order(client: ServiceClient, token: str, order_id: int) -> None:
    reply = await client.post("orders", f"/orders/{order_id}/cancel", token=token)
    _check_signed_in(reply)
    if reply.status == 404:
        raise NotFound("There is no such order among yours.")
    if reply.status == 409:
        raise Conflict(f"This order cannot be cancelled: {_message(reply, 'it is final')}.")
    if not reply.ok:
        raise _unexpected("orders", reply)


async def order_history(client: ServiceClient, token: str, page: int, size: int) -> Listing:
    path = f"/order-history?limit={size + 1}&offset={(page - 1) * size}"
    reply = await client.get("order_history", path, token=token)
    _check_signed_in(reply)
    if not reply.ok:
        raise _unexpected("order history", reply)
    return Listing(reply.body[:size], len(reply.body) > size)
