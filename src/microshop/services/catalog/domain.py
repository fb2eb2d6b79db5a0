"""Catalog rules: pure Python, no I/O."""

from dataclasses import dataclass
from decimal import Decimal

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
