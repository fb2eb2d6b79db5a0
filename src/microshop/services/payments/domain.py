"""Payment rules: which charges the simulated card processor approves. Pure Python."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from microshop.contracts.errors import Conflict, NotFound

# Test cards, as card processors document them.
APPROVED_TEST_CARD = "4242424242424242"
DECLINED_TEST_CARD = "4000000000000002"

CARD_DECLINED = "Card declined"
INVALID_CARD_NUMBER = "Invalid card number"
AMOUNT_OVER_LIMIT = "Amount over limit"
# A charge that arrives after the saga already gave the order up (see refund_order).
ORDER_CANCELLED = "Order cancelled"

DEFAULT_MAX_AMOUNT = Decimal("10000.00")


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    idempotency_key: str
    order_id: int
    user_id: int | None
    amount: Decimal
    status: PaymentStatus
    reason: str | None
    card_last4: str | None
    created_at: datetime
    refunded_at: datetime | None

    def same_request(self, order_id: int, amount: Decimal) -> bool:
        """Whether a retry with this payment's key asks for the same charge."""
        return self.order_id == order_id and self.amount == amount


class PaymentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Payment not found")


class OrderAlreadyPaid(Conflict):
    def __init__(self, payment_id: int) -> None:
        super().__init__("Order already paid", payment_id=payment_id)


class NotCharged(Conflict):
    def __init__(self) -> None:
        super().__init__("Payment was not charged")


@dataclass(frozen=True, slots=True)
class Decision:
    status: PaymentStatus
    reason: str | None = None

    @property
    def approved(self) -> bool:
        return self.status == PaymentStatus.SUCCEEDED


APPROVED = Decision(PaymentStatus.SUCCEEDED)


def declined(reason: str) -> Decision:
    return Decision(PaymentStatus.DECLINED, reason)


def normalize_card(card_number: str) -> str:
    """Card numbers are often typed in groups: "4242 4242-4242 4242"."""
    return card_number.replace(" ", "").replace("-", "")


def passes_luhn(digits: str) -> bool:
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def decide(card_number: str | None, amount: Decimal, max_amount: Decimal) -> Decision:
    """The simulated processor: no card means the default test card, which approves."""
    card = normalize_card(card_number) if card_number is not None else APPROVED_TEST_CARD
    if not passes_luhn(card):
        return declined(INVALID_CARD_NUMBER)
    if card == DECLINED_TEST_CARD:
        return declined(CARD_DECLINED)
    if amount > max_amount:
        return declined(AMOUNT_OVER_LIMIT)
    return APPROVED


def card_last4(card_number: str | None) -> str | None:
    """Only the last four digits are ever kept, and only of something long enough
    to be a card number: the last four of a four-digit string would be all of it."""
    if card_number is None:
        return None
    card = normalize_card(card_number)
    return card[-4:] if card.isdigit() and len(card) >= 12 else None


def visible_to(owner_id: int | None, viewer_id: int | None, viewer_is_admin: bool) -> bool:
    """An admin sees every payment; a customer only their own."""
    return viewer_is_admin or (owner_id is not None and owner_id == viewer_id)
