"""Routes the order saga calls; the gateway does not route /internal."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from microshop.chassis.deps import Db
from microshop.chassis.paging import IdQuery
from microshop.services.shipping import service
from microshop.services.shipping.domain import Shipment
from microshop.services.shipping.schemas import ShipmentCancel, ShipmentCreate, ShipmentPublic

router = APIRouter(prefix="/internal/shipments", tags=["internal"])


async def refuse_all(request: Request) -> bool:
    return bool(request.app.state.settings.refuse_all)


RefuseAll = Annotated[bool, Depends(refuse_all)]


@router.post(
    "",
    response_model=ShipmentPublic,
    status_code=201,
    responses={200: {"description": "the order already had a shipment: that one"}},
)
async def create_shipment(
    new: ShipmentCreate, response: Response, db: Db, refusing: RefuseAll
) -> Shipment:
    created = await service.create_shipment(db, new, refusing)
    if not created.created:
        response.status_code = 200
    return created.shipment


@router.post("/cancel", response_model=ShipmentPublic)
async def cancel_shipment(change: ShipmentCancel, db: Db) -> Shipment:
    return await service.cancel_shipment(db, change.order_id)


@router.get("", response_model=ShipmentPublic)
async def shipment_of_order(db: Db, order_id: IdQuery) -> Shipment:
    return await service.shipment_of_order(db, order_id)
