"""The cart (kept in the visitor's cookie) and placing its order.

The checkout form carries the cart it showed and an Idempotency-Key made when the
page was rendered: the order placed is exactly what the shopper saw, and a second
submit of the same page (a double click, a reload of the post) gets the same order
back from the orders service instead of a second one.
"""

import re
from decimal import Decimal

from fastapi import APIRouter
from fastapi.responses import Response

from microshop.chassis.errors import status_of
from microshop.contracts.errors import Conflict, Invalid
from microshop.services.web import peers
from microshop.services.web.domain import (
    Cart,
    FormError,
    check_card,
    parse_id,
    parse_quantity,
)
from microshop.services.web.visit import (
    CurrentVisit,
    PostedForm,
    SignedInVisit,
    Visit,
    idempotency_key,
    text,
)

router = APIRouter(include_in_schema=False)
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


async def render_cart(visit: Visit, status: int = 200, error: str | None = None) -> Response:
    products = await peers.products_in(visit.client, visit.cart)
    lines = [(line, products[line.product_id]) for line in visit.cart.lines]
    total = sum((p.price * line.quantity for line, p in lines if p is not None), start=Decimal("0"))
    return visit.render(
        "cart.html",
        status,
        lines=lines,
        total=total,
        orderable=bool(lines) and all(p is not None for _, p in lines),
        idempotency_key=idempotency_key(),
        error=error,
    )


@router.get("/cart")
async def cart_page(visit: CurrentVisit) -> Response:
    return await render_cart(visit)


@router.post("/cart/items")
async def add_to_cart(visit: CurrentVisit, form: PostedForm) -> Response:
    product_id = parse_id(text(form, "product_id"))
    if product_id is None:
        return visit.render("error.html", 404, title="Not found", message="No such product.")
    try:
        quantity = parse_quantity(text(form, "quantity") or "1")
        cart = visit.cart.add(product_id, quantity)
    except FormError as error:
        product = await peers.get_product(visit.client, product_id)
        return visit.render(
            "product.html",
            422,
            product=product,
            in_cart=visit.cart.quantity_of(product_id),
            error=str(error),
        )
    await peers.get_product(visit.client, product_id)  # a product that exists, or a 404 page
    visit.keep_cart(cart)
    return visit.redirect("/cart")


@router.post("/cart/items/{product_id}")
async def change_line(product_id: str, visit: CurrentVisit, form: PostedForm) -> Response:
    known = parse_id(product_id)
    if known is None:
        return visit.render("error.html", 404, title="Not found", message="No such product.")
    try:
        removing = text(form, "action") == "remove"
        quantity = 0 if removing else parse_quantity(text(form, "quantity"), allow_zero=True)
        visit.keep_cart(visit.cart.set(known, quantity))
    except FormError as error:
        return await render_cart(visit, 422, str(error))
    return visit.redirect("/cart")


@router.post("/checkout")
async def checkout(visit: SignedInVisit, form: PostedForm) -> Response:
    shown = Cart.decode(text(form, "cart", 2000))
    key = text(form, "idempotency_key")
    if not shown.lines:
        return await render_cart(visit, 422, "Your cart is empty: add a product first.")
    if not _KEY.match(key):
        return await render_cart(visit, 422, "This page is out of date: please order again.")
    try:
        card = check_card(text(form, "card_number", 40))
    except FormError as error:
        return await render_cart(visit, 422, str(error))
    assert visit.visitor is not None
    try:
        order_id = await peers.place_order(
            visit.client, visit.token(), visit.visitor.user_id, shown, card, key
        )
    except (Conflict, Invalid) as refusal:
        return await render_cart(visit, status_of(refusal), refusal.message)
    if visit.cart in (shown, Cart()):
        visit.keep_cart(Cart())
    return visit.redirect(f"/orders/{order_id}")
