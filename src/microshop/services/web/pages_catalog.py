"""Browsing: the product list with search and paging (`/`), and a product's page."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from microshop.services.web import peers
from microshop.services.web.domain import FormError, clean_search, parse_id, parse_page
from microshop.services.web.visit import CurrentVisit

router = APIRouter(include_in_schema=False)


@router.get("/")
async def product_list(
    visit: CurrentVisit, q: str | None = None, page: str | None = None
) -> HTMLResponse:
    search, number = clean_search(q), parse_page(page)
    size = visit.settings.page_size
    try:
        listing = await peers.list_products(visit.client, search, number, size)
    except FormError as error:
        return visit.render(
            "products.html", 422, search=search, number=1, listing=None, error=str(error)
        )
    return visit.render("products.html", search=search, number=number, listing=listing, error=None)


@router.get("/products/{product_id}")
async def product_page(product_id: str, visit: CurrentVisit) -> HTMLResponse:
    known = parse_id(product_id)
    if known is None:
        return visit.render(
            "error.html", 404, title="Not found", message="There is no such product."
        )
    product = await peers.get_product(visit.client, known)
    in_cart = visit.cart.quantity_of(known)
    return visit.render("product.html", product=product, in_cart=in_cart, error=None)
