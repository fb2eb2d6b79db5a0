"""Catalog rules: pure Python, no I/O."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

# The chapter's three products; a fresh catalog starts with them.
STARTER_PRODUCTS: tuple[tuple[str, Decimal, int], ...] = (
    ("Laptop", Decimal("999.99"), 10),
    ("Mouse", Decimal("29.99"), 50),
    ("Keyboard", Decimal("79.99"), 30),
)

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


def page(limit: int | None, offset: int | None) -> Page:
    """A list is never longer than MAX_PAGE, whatever the client asks for."""
    return Page(limit=min(max(limit or MAX_PAGE, 1), MAX_PAGE), offset=max(offset or 0, 0))


class ReservationStatus(StrEnum):
    DECREASED = "decreased"
    RESTORED = "restored"


class LineLike(Protocol):
    product_id: int
    quantity: int


def merge_lines(lines: Iterable[LineLike]) -> dict[int, int]:
    """Quantities per product; two lines for the same product take their sum."""
    merged: dict[int, int] = {}
    for line in lines:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return merged
