"""Routes the order saga calls; the gateway does not route /internal."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from microshop.chassis.db import Session
from microshop.services.shipping import service
from microshop.services.shipping.models import ShipmentRow
from microshop.services.shipping.schemas import ShipmentCancel, ShipmentCreate, ShipmentPublic

router = APIRouter(prefix="/internal/shipments", tags=["internal"])


@router.post(
    "",
    response_model=ShipmentPublic,
    status_code=201,
    responses={200: {"description": "the order already had a shipment: that one"}},
)
async def create_shipment(
    new: ShipmentCreate, request: Request, response: Response, session: Session
) -> ShipmentRow:
    refuse_all: bool = request.app.state.settings.refuse_all
    created = await service.create_shipment(session, new, refuse_all)
    if not created.created:
        response.status_code = 200
    return created.shipment


@router.post("/cancel", response_model=ShipmentPublic)
async def cancel_shipment(change: ShipmentCancel, session: Session) -> ShipmentRow:
    return await service.cancel_shipment(session, change.order_id)


@router.get("", response_model=ShipmentPublic)
async def shipment_of_order(session: Session, order_id: Annotated[int, Query(ge=1)]) -> ShipmentRow:
    return await service.shipment_of_order(session, order_id)
