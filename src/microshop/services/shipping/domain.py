"""Shipment rules: the state machine, tracking numbers, refusals. Pure Python."""

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from microshop.contracts.errors import Conflict, Invalid, NotFound

TRACKING_PREFIX = "MS"
TRACKING_ALPHABET = string.ascii_uppercase + string.digits
TRACKING_LENGTH = 10
TRACKING_NUMBER = re.compile(rf"^{TRACKING_PREFIX}[A-Z0-9]{{{TRACKING_LENGTH}}}$")

# An address containing this word is refused, so a test can make one order's
# shipment fail and watch the saga compensate.
UNDELIVERABLE_WORD = "nowhere"


class ShipmentStatus(StrEnum):
    CREATED = "created"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# Where `advance` takes a shipment; delivered and cancelled are final.
NEXT_STATUS: dict[ShipmentStatus, ShipmentStatus] = {
    ShipmentStatus.CREATED: ShipmentStatus.SHIPPED,
    ShipmentStatus.SHIPPED: ShipmentStatus.DELIVERED,
}


@dataclass(frozen=True, slots=True)
class Shipment:
    """At most one per order. A cancelled shipment without a tracking number is a
    tombstone: the order was called off before its shipment was created."""

    id: int
    order_id: int
    user_id: int | None
    address: str | None
    tracking_number: str | None
    status: ShipmentStatus
    created_at: datetime
    updated_at: datetime


class ShipmentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Shipment not found")


class ShippingRefused(Invalid):
    def __init__(self) -> None:
        super().__init__("Shipping refused")


class ShipmentAlreadyShipped(Conflict):
    def __init__(self) -> None:
        super().__init__("Shipment already shipped")


class ShipmentChangedMeanwhile(Conflict):
    """Another request moved the shipment between our read and our update."""

    def __init__(self) -> None:
        super().__init__("Shipment was changed by another request")


class CannotAdvance(Conflict):
    def __init__(self, status: ShipmentStatus) -> None:
        super().__init__(f"A {status} shipment cannot advance")
        self.status = status


def next_status(status: ShipmentStatus) -> ShipmentStatus:
    try:
        return NEXT_STATUS[status]
    except KeyError:
        raise CannotAdvance(status) from None


def may_cancel(status: ShipmentStatus) -> bool:
    """Only a shipment that has not left the warehouse can be called back."""
    return status in (ShipmentStatus.CREATED, ShipmentStatus.CANCELLED)


def new_tracking_number() -> str:
    suffix = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
    return TRACKING_PREFIX + suffix


def refuses(address: str | None, refuse_all: bool) -> bool:
    return refuse_all or (address is not None and UNDELIVERABLE_WORD in address.casefold())


def visible_to(owner_id: int | None, viewer_id: int | None, viewer_is_admin: bool) -> bool:
    """An admin sees every shipment; a customer only their own."""
    return viewer_is_admin or (owner_id is not None and owner_id == viewer_id)
