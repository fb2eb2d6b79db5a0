"""The orders' request and response shapes (OrderCreate, OrderPublic)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer, field_validator, model_validator

from microshop.chassis.data import timestamp
from microshop.chassis.paging import IdField
from microshop.chassis.schemas import RequestModel
from microshop.services.orders.domain import MAX_LINES, MAX_QUANTITY, MIN_QUANTITY

Quantity = Annotated[int, Field(ge=MIN_QUANTITY, le=MAX_QUANTITY)]
# A total may exceed a unit price's bounds (contracts.money.Money); same wire format.
Amount = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class OrderItemIn(RequestModel):
    product_id: IdField
    quantity: Quantity


class PaymentIn(RequestModel):
    card_number: str = Field(min_length=12, max_length=23, pattern=r"^[0-9 -]+$")


class OrderCreate(RequestModel):
    """The chapter's form (`product_id` + `quantity`) or several `items`, not both."""

    user_id: IdField | None = None
    product_id: IdField | None = None
    quantity: Quantity | None = None
    items: list[OrderItemIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    payment: PaymentIn | None = None

    @model_validator(mode="after")
    def one_form(self) -> "OrderCreate":
        single = self.product_id is not None or self.quantity is not None
        if self.items is not None and single:
            raise ValueError("give either product_id and quantity, or items, not both")
        if self.items is None and (self.product_id is None or self.quantity is None):
            raise ValueError("product_id and quantity are required (or items)")
        return self

    def wanted(self) -> list[tuple[int, int]]:
        """(product id, quantity) per line, in the order given."""
        if self.items is not None:
            return [(item.product_id, item.quantity) for item in self.items]
        assert self.product_id is not None and self.quantity is not None
        return [(self.product_id, self.quantity)]

    def card_number(self) -> str | None:
        if self.payment is None:
            return None
        return self.payment.card_number.replace(" ", "").replace("-", "")


class OrderUser(BaseModel):
    id: int
    name: str
    email: str


class OrderProduct(BaseModel):
    id: int
    name: str
    price: Amount


class OrderItemPublic(BaseModel):
    product_id: int
    name: str
    unit_price: Amount
    quantity: int
    line_total: Amount


class SagaStepPublic(BaseModel):
    step: str
    event: str
    detail: str | None
    at: datetime

    @field_validator("at", mode="before")
    @classmethod
    def _stored_time(cls, value: object) -> object:
        return timestamp(value)


class SagaPublic(BaseModel):
    phase: str
    outcome: str | None
    steps: list[SagaStepPublic]


class OrderPublic(BaseModel):
    id: int
    user: OrderUser
    # The first line, as the chapter's single-product API shows it.
    product: OrderProduct
    quantity: int
    items: list[OrderItemPublic]
    total: Amount
    status: str
    reason: str | None = None
    created_at: datetime
    saga: SagaPublic | None = None
