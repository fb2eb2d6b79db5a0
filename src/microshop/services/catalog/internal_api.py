"""Routes other services call (the order saga, and orders reading today's price);
the gateway does not route /internal."""

from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis.lean import LeanRoutes, database, path_id, reply
from microshop.services.catalog import inventory, service
from microshop.services.catalog.schemas import (
    ProductDetail,
    ReservationPublic,
    StockChange,
    StockRestore,
)

internal = LeanRoutes("/internal")


# Stock changes leave the rendered product list alone: it may show stock up to its
# max age (a second) old; a product's own page and this route read the database.
@internal.post_json("/stock/decrease", StockChange)
async def decrease_stock(request: Request, change: StockChange) -> Response:
    reservation = await inventory.decrease_stock(database(request), change.order_id, change.items)
    return reply(ReservationPublic.model_validate(reservation))


@internal.post_json("/stock/restore", StockRestore)
async def restore_stock(request: Request, change: StockRestore) -> Response:
    reservation = await inventory.restore_stock(database(request), change.order_id)
    return reply(ReservationPublic.model_validate(reservation))


@internal.get("/products/{product_id}")
async def product_now(request: Request) -> Response:
    """The product as it is this instant (never cached): what an order is priced at."""
    product = await service.get_product(database(request), path_id(request, "product_id"))
    return reply(ProductDetail.model_validate(product))
