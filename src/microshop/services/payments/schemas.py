"""Request and response shapes of payments (PaymentCreate, PaymentPublic, ...)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from microshop.chassis.paging import IdField
from microshop.chassis.schemas import RequestModel
from microshop.contracts.money import Amount

# Any order total may be charged (and declined over the limit): not capped like a price.
PositiveAmount = Annotated[Amount, Field(gt=0)]


class PaymentCreate(RequestModel):
    """The saga's charge for one order; no card means the default test card."""

    order_id: IdField
    user_id: IdField | None = None
    amount: PositiveAmount
    card_number: str | None = Field(None, min_length=1, max_length=40)


class RefundOrder(RequestModel):
    order_id: IdField


class PaymentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    user_id: int | None
    amount: Amount
    status: str
    reason: str | None
    card_last4: str | None
    created_at: datetime
    refunded_at: datetime | None


class OrderRefund(BaseModel):
    """`refunded` is true once the order's charge is refunded, also on a repeat."""

    refunded: bool
    payment: PaymentPublic | None
