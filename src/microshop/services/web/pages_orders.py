"""A shopper's orders: the history (from the order_history read model), one order's
page with its saga's steps, the fragment that page refreshes itself from, and
cancelling.

The order page shows the order as the orders service has it now; while it is not
final, a few lines of JavaScript (static/order-live.js) fetch the status fragment
again and swap it in, so the page moves from pending to approved or rejected
without a reload. Without JavaScript the page refreshes itself (<noscript>).
"""

from fastapi import APIRouter
from fastapi.responses import Response

from microshop.chassis.errors import status_of
from microshop.contracts.errors import Conflict, NotFound
from microshop.services.web import peers
from microshop.services.web.domain import parse_id, parse_page
from microshop.services.web.progress import progress_of
from microshop.services.web.visit import PostedForm, SignedInVisit, Visit

router = APIRouter(include_in_schema=False)


@router.get("/orders")
async def order_history(visit: SignedInVisit, page: str | None = None) -> Response:
    number = parse_page(page)
    size = visit.settings.page_size
    listing = await peers.order_history(visit.client, visit.token(), number, size)
    return visit.render("orders.html", listing=listing, number=number)


def _order_id(text: str) -> int:
    known = parse_id(text)
    if known is None:
        raise NotFound("There is no such order among yours.")
    return known


async def render_order(
    visit: Visit, order_id: int, status: int = 200, error: str | None = None
) -> Response:
    order = await peers.get_order(visit.client, visit.token(), order_id)
    return visit.render("order.html", status, order=order, progress=progress_of(order), error=error)


@router.get("/orders/{order_id}")
async def order_page(order_id: str, visit: SignedInVisit) -> Response:
    return await render_order(visit, _order_id(order_id))


@router.get("/orders/{order_id}/status")
async def order_status(order_id: str, visit: SignedInVisit) -> Response:
    """The live part of the order page alone, for the page's script to swap in."""
    order = await peers.get_order(visit.client, visit.token(), _order_id(order_id))
    response = visit.render("_order_status.html", order=order, progress=progress_of(order))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/orders/{order_id}/cancel")
async def cancel(order_id: str, visit: SignedInVisit, form: PostedForm) -> Response:
    known = _order_id(order_id)
    try:
        await peers.cancel_order(visit.client, visit.token(), known)
    except Conflict as refusal:
        return await render_order(visit, known, status_of(refusal), refusal.message)
    return visit.redirect(f"/orders/{known}")
