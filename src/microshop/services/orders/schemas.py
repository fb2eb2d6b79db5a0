"""The orders' request and response shapes (OrderCreate, OrderPublic)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from microshop.services.orders.domain import MAX_ID, MAX_QUANTITY, MIN_QUANTITY

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Quantity = Annotated[int, Field(ge=MIN_QUANTITY, le=MAX_QUANTITY)]
# A total may exceed a unit price's bounds (contracts.money.Money); same wire format.
Amount = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Id | None = None
    product_id: Id
    quantity: Quantity


class OrderUser(BaseModel):
    id: int
    name: str
    email: str


class OrderProduct(BaseModel):
    id: int
    name: str
    price: Amount


class OrderPublic(BaseModel):
    id: int
    user: OrderUser
    product: OrderProduct
    quantity: int
    total: Amount
    status: str
    created_at: datetime
