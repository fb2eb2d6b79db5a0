"""Payment rules: which charges the simulated card processor approves. Pure Python."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

# Test cards, as card processors document them.
APPROVED_TEST_CARD = "4242424242424242"
DECLINED_TEST_CARD = "4000000000000002"

CARD_DECLINED = "Card declined"
INVALID_CARD_NUMBER = "Invalid card number"
AMOUNT_OVER_LIMIT = "Amount over limit"
# A charge that arrives after the saga already gave the order up (see refund_order).
ORDER_CANCELLED = "Order cancelled"

DEFAULT_MAX_AMOUNT = Decimal("10000.00")
MAX_IDEMPOTENCY_KEY = 200
MAX_PAGE = 100


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REFUNDED = "refunded"


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


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


def page(limit: int | None, offset: int | None) -> Page:
    """A list is never longer than MAX_PAGE, whatever the client asks for."""
    return Page(limit=min(max(limit or MAX_PAGE, 1), MAX_PAGE), offset=max(offset or 0, 0))


def visible_to(owner_id: int | None, viewer_id: int | None, viewer_is_admin: bool) -> bool:
    """An admin sees every payment; a customer only their own."""
    return viewer_is_admin or (owner_id is not None and owner_id == viewer_id)
