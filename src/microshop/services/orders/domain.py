"""Order rules: pure Python, no I/O.

An order has lines; today's API places one product per order, but totals, the
request fingerprint and the tables already speak in lines so the saga can grow
into them without a migration of meaning.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from microshop.contracts.money import to_cents

MIN_QUANTITY = 1
MAX_QUANTITY = 1000
MAX_PAGE = 100
MAX_LINES = 50
# Ids are 32-bit integer columns on every backend; a larger id cannot exist.
MAX_ID = 2**31 - 1
MAX_IDEMPOTENCY_KEY = 200
# Open mode has no identities: every anonymous caller shares one idempotency scope.
ANONYMOUS_CALLER = 0


class OrderStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class OrderRuleBroken(Exception):
    """A request the rules refuse; the service turns it into an HTTP answer."""


class UserIdRequired(OrderRuleBroken):
    pass


class CannotOrderForAnotherUser(OrderRuleBroken):
    pass


class InsufficientStock(OrderRuleBroken):
    def __init__(self, available: int) -> None:
        super().__init__(f"only {available} in stock")
        self.available = available


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


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


def page(limit: int | None, offset: int | None) -> Page:
    """A list is never longer than MAX_PAGE, whatever the client asks for."""
    return Page(limit=min(max(limit or MAX_PAGE, 1), MAX_PAGE), offset=max(offset or 0, 0))


def is_valid_quantity(quantity: int) -> bool:
    return MIN_QUANTITY <= quantity <= MAX_QUANTITY


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


def check_stock(available: int, quantity: int) -> None:
    if available < quantity:
        raise InsufficientStock(max(available, 0))


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: int
    product_name: str
    unit_price: Decimal
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return to_cents(self.unit_price * self.quantity)


def order_total(lines: Iterable[OrderLine]) -> Decimal:
    return to_cents(sum((line.line_total for line in lines), Decimal(0)))


def request_fingerprint(user_id: int, items: Iterable[tuple[int, int]]) -> str:
    """A stable hash of what was asked (customer, (product, quantity) pairs), so a
    reused Idempotency-Key with a different request is recognised."""
    canonical = json.dumps({"user_id": user_id, "items": sorted(items)}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
