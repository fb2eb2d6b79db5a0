"""Request and response shapes of shipping (ShipmentCreate, ShipmentPublic, ...)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

OrderId = Annotated[int, Field(ge=1, le=2**31 - 1)]
UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ShipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: OrderId
    user_id: UserId | None = None
    address: str | None = Field(None, min_length=1, max_length=500)


class ShipmentCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: OrderId


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
