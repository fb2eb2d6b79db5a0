"""How events fold into an order's view: pure rules, no I/O.

Each consumer subscribes per event type, so events of one order can arrive in
any order (an `order.approved` before its `order.created`). Every part of the
view therefore remembers when it was last set, and an older fact never
overwrites a newer one.

    view = fold_payment(view, payment, at)   # a new view; the old one is untouched
"""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from microshop.contracts import events
from microshop.contracts.errors import NotFound

OrderOutcome = events.OrderApproved | events.OrderRejected | events.OrderCancelled
PaymentFact = events.PaymentSucceeded | events.PaymentFailed | events.PaymentRefunded
ShipmentFact = events.ShipmentCreated | events.ShipmentCancelled | events.ShipmentAdvanced


@dataclass
class Stamped:
    value: str | None = None
    at: datetime | None = None

    def apply(self, value: str, at: datetime) -> bool:
        """Takes `value` unless a newer one is already in place."""
        if self.at is not None and at < self.at:
            return False
        self.value, self.at = value, at
        return True


# The status an order.created carries is its first: any outcome beats it, even
# one stamped a hair earlier by another service's clock.
FIRST_STATUS = "pending"


def newer_status(current: Stamped, status: str, at: datetime) -> bool:
    if status == FIRST_STATUS and current.value not in (None, FIRST_STATUS):
        return False
    return current.apply(status, at)


@dataclass(frozen=True, slots=True)
class OrderView:
    """What the read model knows of one order; a part is None until an event sets it.
    Each `*_at` is the time of the fact that set the part before it."""

    order_id: int
    user_id: int | None = None
    user_name: str | None = None
    user_email: str | None = None
    items: tuple[dict[str, Any], ...] = ()  # the order's lines, as order.created has them
    total: Decimal | None = None
    status: str | None = None
    status_at: datetime | None = None
    reason: str | None = None
    payment_status: str | None = None
    payment_at: datetime | None = None
    shipment_status: str | None = None
    shipment_at: datetime | None = None
    tracking_number: str | None = None
    placed_at: datetime | None = None
    updated_at: datetime | None = None  # the newest fact folded in

    def visible_to(self, viewer_id: int | None, viewer_is_admin: bool) -> bool:
        """An admin sees every view; a customer only their own orders'."""
        return viewer_is_admin or (self.user_id is not None and self.user_id == viewer_id)


class OrderViewNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Order not found")


def _with_order(
    view: OrderView, order: events.OrderCreated | OrderOutcome, **more: Any
) -> OrderView:
    """What every order fact says: whose order it is and its total."""
    return replace(
        view,
        user_id=order.user_id,
        user_name=order.user_name,
        user_email=order.user_email,
        total=order.total,
        **more,
    )


def fold_order_placed(view: OrderView, order: events.OrderCreated, at: datetime) -> OrderView:
    view = _with_order(
        view,
        order,
        items=tuple(item.model_dump(mode="json") for item in order.items),
        placed_at=order.created_at,
    )
    return _touched(_with_status(view, order.status, at, reason=None), at)


def fold_order_outcome(view: OrderView, order: OrderOutcome, at: datetime) -> OrderView:
    return _touched(_with_status(_with_order(view, order), order.status, at, order.reason), at)


def fold_payment(view: OrderView, payment: PaymentFact, at: datetime) -> OrderView:
    stamp = Stamped(view.payment_status, view.payment_at)
    if stamp.apply(payment.status, at):
        view = replace(view, payment_status=payment.status, payment_at=at)
    return _touched(view, at)


def fold_shipment(view: OrderView, shipment: ShipmentFact, at: datetime) -> OrderView:
    stamp = Stamped(view.shipment_status, view.shipment_at)
    if stamp.apply(shipment.status, at):
        view = replace(
            view,
            shipment_status=shipment.status,
            shipment_at=at,
            tracking_number=shipment.tracking_number,
        )
    return _touched(view, at)


def _with_status(view: OrderView, status: str, at: datetime, reason: str | None) -> OrderView:
    if not newer_status(Stamped(view.status, view.status_at), status, at):
        return view
    return replace(view, status=status, status_at=at, reason=reason)


def _touched(view: OrderView, at: datetime) -> OrderView:
    # The newest fact, not the last to arrive: the view is the same in any order.
    if view.updated_at is not None and at <= view.updated_at:
        return view
    return replace(view, updated_at=at)
