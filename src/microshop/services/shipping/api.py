"""Public routes (through the gateway): a customer sees their own shipments, an
admin sees all and moves them on."""

from typing import Annotated

from fastapi import APIRouter, Query

from microshop.chassis.auth import AdminUser, CurrentUser
from microshop.chassis.db import Session
from microshop.services.shipping import service
from microshop.services.shipping.domain import MAX_PAGE, page
from microshop.services.shipping.models import ShipmentRow
from microshop.services.shipping.schemas import ShipmentPublic

router = APIRouter(prefix="/shipments", tags=["shipments"])


@router.get("", response_model=list[ShipmentPublic])
async def list_shipments(
    session: Session,
    user: CurrentUser,
    order_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, description=f"capped at {MAX_PAGE}")] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ShipmentRow]:
    return await service.list_shipments(session, user, order_id, page(limit, offset))


@router.get("/{shipment_id}", response_model=ShipmentPublic)
async def get_shipment(shipment_id: int, session: Session, user: CurrentUser) -> ShipmentRow:
    return await service.shipment_for(session, shipment_id, user)


@router.post("/{shipment_id}/advance", response_model=ShipmentPublic)
async def advance_shipment(shipment_id: int, session: Session, _: AdminUser) -> ShipmentRow:
    """created -> shipped -> delivered, one step per call."""
    return await service.advance_shipment(session, shipment_id)
