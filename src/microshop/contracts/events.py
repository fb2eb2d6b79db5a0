"""Events: the envelope every event travels in, and the typed payload of each.

An event is a fact in the past tense (`OrderCreated`), published by the one
service that owns the fact. Consumers read `Envelope.data` with the model that
`EVENT_TYPES[envelope.type]` names, ignoring fields they do not know, so a
producer may add fields without breaking anyone.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from microshop.contracts.money import Amount, Money


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID = Field(description="unique per event: the deduplication key")
    type: str = Field(description="e.g. order.created")
    version: int = 1
    occurred_at: datetime
    source: str = Field(description="the producing service")
    trace: str | None = Field(None, description="W3C traceparent of the request that caused it")
    data: dict[str, Any]


class Event(BaseModel):
    """Base of every event payload. `TYPE` names it on the wire; `key()` names the
    aggregate it belongs to, the unit within which events keep their order."""

    model_config = ConfigDict(extra="ignore")

    TYPE: ClassVar[str]
    PRODUCER: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def key(self) -> str:
        return str(getattr(self, "id", ""))

    def envelope(self, trace: str | None = None) -> Envelope:
        return Envelope(
            id=uuid.uuid4(),
            type=self.TYPE,
            version=self.VERSION,
            occurred_at=datetime.now(UTC),
            source=self.PRODUCER,
            trace=trace,
            data=self.model_dump(mode="json"),
        )


class UserRegistered(Event):
    TYPE = "user.registered"
    PRODUCER = "users"

    id: int
    name: str
    email: str
    role: str


class _ProductFact(Event):
    PRODUCER = "catalog"

    id: int
    name: str
    price: Money
    stock: int


class ProductCreated(_ProductFact):
    TYPE = "product.created"


class ProductUpdated(_ProductFact):
    TYPE = "product.updated"


class OrderItem(BaseModel):
    product_id: int
    product_name: str
    unit_price: Money
    quantity: int


class _OrderFact(Event):
    """The order and who placed it: the fields every order event begins with. A
    field here comes before a subclass's own on the wire, so `total` (after the
    first line in `OrderCreated`) stays with each event."""

    PRODUCER = "orders"

    id: int
    user_id: int
    user_name: str
    user_email: str


class OrderCreated(_OrderFact):
    """A superset of the chapter's `order_created` message. `product_*`,
    `unit_price` and `quantity` describe the first line; `items` lists them all."""

    TYPE = "order.created"

    product_id: int
    product_name: str
    unit_price: Money
    quantity: int
    total: Amount
    status: str
    created_at: datetime
    items: list[OrderItem] = []


class StockLine(BaseModel):
    product_id: int
    quantity: int


class _StockMovement(Event):
    PRODUCER = "catalog"

    order_id: int
    items: list[StockLine]

    def key(self) -> str:
        return f"order-{self.order_id}"


class StockDecreased(_StockMovement):
    TYPE = "stock.decreased"


class StockRestored(_StockMovement):
    TYPE = "stock.restored"


class _PaymentFact(Event):
    PRODUCER = "payments"

    id: int
    order_id: int
    user_id: int | None
    amount: Amount
    status: str
    reason: str | None = None

    def key(self) -> str:
        return f"order-{self.order_id}"


class PaymentSucceeded(_PaymentFact):
    TYPE = "payment.succeeded"


class PaymentFailed(_PaymentFact):
    TYPE = "payment.failed"


class PaymentRefunded(_PaymentFact):
    TYPE = "payment.refunded"


class _ShipmentFact(Event):
    PRODUCER = "shipping"

    id: int
    order_id: int
    tracking_number: str
    status: str

    def key(self) -> str:
        return f"order-{self.order_id}"


class ShipmentCreated(_ShipmentFact):
    TYPE = "shipment.created"


class ShipmentCancelled(_ShipmentFact):
    TYPE = "shipment.cancelled"


class ShipmentAdvanced(_ShipmentFact):
    """The shipment moved on: created -> shipped -> delivered."""

    TYPE = "shipment.advanced"


class _OrderOutcome(_OrderFact):
    total: Amount
    status: str
    reason: str | None = None


class OrderApproved(_OrderOutcome):
    TYPE = "order.approved"


class OrderRejected(_OrderOutcome):
    TYPE = "order.rejected"


class OrderCancelled(_OrderOutcome):
    TYPE = "order.cancelled"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        UserRegistered,
        ProductCreated,
        ProductUpdated,
        OrderCreated,
        StockDecreased,
        StockRestored,
        PaymentSucceeded,
        PaymentFailed,
        PaymentRefunded,
        ShipmentCreated,
        ShipmentCancelled,
        ShipmentAdvanced,
        OrderApproved,
        OrderRejected,
        OrderCancelled,
    )
}
