"""Public routes (through the gateway): a customer sees their own shipments, an
admin sees all and moves them on."""

from fastapi import APIRouter

from microshop.chassis.auth import AdminUser, CurrentUser
from microshop.chassis.deps import Db
from microshop.chassis.paging import IdPath, OptionalIdQuery, PageQuery
from microshop.services.shipping import service
from microshop.services.shipping.domain import Shipment
from microshop.services.shipping.schemas import ShipmentPublic

router = APIRouter(prefix="/shipments", tags=["shipments"])


@router.get("", response_model=list[ShipmentPublic])
async def list_shipments(
    db: Db, user: CurrentUser, page: PageQuery, order_id: OptionalIdQuery = None
) -> list[Shipment]:
    return await service.list_shipments(db, user, order_id, page)


@router.get("/{shipment_id}", response_model=ShipmentPublic)
async def get_shipment(shipment_id: IdPath, db: Db, user: CurrentUser) -> Shipment:
    return await service.shipment_for(db, shipment_id, user)


@router.post("/{shipment_id}/advance", response_model=ShipmentPublic)
async def advance_shipment(shipment_id: IdPath, db: Db, _: AdminUser) -> Shipment:
    """created -> shipped -> delivered, one step per call."""
    return await service.advance_shipment(db, shipment_id)
