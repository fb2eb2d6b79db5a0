"""Routes the order saga calls; the gateway does not route /internal."""

from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis.lean import LeanRoutes, database, query_id, reply
from microshop.services.shipping import service
from microshop.services.shipping.schemas import ShipmentCancel, ShipmentCreate, ShipmentPublic

internal = LeanRoutes("/internal/shipments")


@internal.post_json("", ShipmentCreate)
async def create_shipment(request: Request, new: ShipmentCreate) -> Response:
    # 201 for a new shipment; 200 with the one the order already had (a retry).
    refusing = bool(request.app.state.settings.refuse_all)
    created = await service.create_shipment(database(request), new, refusing)
    return reply(ShipmentPublic.model_validate(created.shipment), 201 if created.created else 200)


@internal.post_json("/cancel", ShipmentCancel)
async def cancel_shipment(request: Request, change: ShipmentCancel) -> Response:
    shipment = await service.cancel_shipment(database(request), change.order_id)
    return reply(ShipmentPublic.model_validate(shipment))


@internal.get("")
async def shipment_of_order(request: Request) -> Response:
    shipment = await service.shipment_of_order(database(request), query_id(request, "order_id"))
    return reply(ShipmentPublic.model_validate(shipment))
