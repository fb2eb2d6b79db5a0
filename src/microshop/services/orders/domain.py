"""Order rules: pure Python, no I/O.

An order has lines; the chapter's API places one product per order, `items` several;
totals, the request fingerprint and the tables all speak in lines.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from microshop.contracts.errors import Forbidden, Invalid, NotFound
from microshop.contracts.money import to_cents

MIN_QUANTITY = 1
MAX_QUANTITY = 1000
MAX_LINES = 50
# Open mode has no identities: every anonymous caller shares one idempotency scope.
ANONYMOUS_CALLER = 0


class OrderStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class OrderNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Order not found")


class UserIdRequired(Invalid):
    def __init__(self) -> None:
        super().__init__("user_id is required")


class CannotOrderForAnotherUser(Forbidden):
    def __init__(self) -> None:
        super().__init__("Cannot order for another user")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who places or reads orders: a user id (None in open mode) and whether admin."""

    user_id: int | None
    is_admin: bool

    @property
    def idempotency_scope(self) -> int:
        return ANONYMOUS_CALLER if self.user_id is None else self.user_id

    def may_act_for(self, order_user_id: int) -> bool:
        return self.is_admin or self.user_id == order_user_id


def customer_for(caller: Caller, requested_user_id: int | None) -> int:
    """The user an order is placed for: the caller by default; someone else only
    for an admin; in open mode (no identity) the request must name the user."""
    if requested_user_id is None:
        if caller.user_id is None:
            raise UserIdRequired
        return caller.user_id
    if caller.user_id is not None and not caller.may_act_for(requested_user_id):
        raise CannotOrderForAnotherUser
    return requested_user_id


@dataclass(frozen=True, slots=True)
class Customer:
    """The snapshot of the user an order keeps (names never change through the API)."""

    id: int
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: int
    product_name: str
    unit_price: Decimal
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return to_cents(self.unit_price * self.quantity)


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    customer: Customer
    status: OrderStatus
    total: Decimal
    lines: tuple[OrderLine, ...]
    created_at: datetime
    reason: str | None
    request_hash: str


def order_total(lines: Iterable[OrderLine]) -> Decimal:
    return to_cents(sum((line.line_total for line in lines), Decimal(0)))


def request_fingerprint(user_id: int, items: Iterable[tuple[int, int]]) -> str:
    """A stable hash of what was asked (customer, (product, quantity) pairs), so a
    reused Idempotency-Key with a different request is recognised."""
    canonical = json.dumps({"user_id": user_id, "items": sorted(items)}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
