"""Request and response shapes of shipping (ShipmentCreate, ShipmentPublic, ...)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from microshop.chassis.paging import IdField
from microshop.chassis.schemas import RequestModel


class ShipmentCreate(RequestModel):
    order_id: IdField
    user_id: IdField | None = None
    address: str | None = Field(None, min_length=1, max_length=500)


class ShipmentCancel(RequestModel):
    order_id: IdField


class ShipmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    user_id: int | None
    address: str | None
    # None only for a cancellation that arrived before any shipment existed.
    tracking_number: str | None
    status: str
    created_at: datetime
    updated_at: datetime
