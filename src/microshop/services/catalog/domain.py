"""Catalog rules: products, stock reservations and the search words. Pure Python, no I/O."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from microshop.contracts.errors import Conflict, Invalid, NotFound

# The chapter's three products; a fresh catalog starts with them.
STARTER_PRODUCTS: tuple[tuple[str, Decimal, int], ...] = (
    ("Laptop", Decimal("999.99"), 10),
    ("Mouse", Decimal("29.99"), 50),
    ("Keyboard", Decimal("79.99"), 30),
)

MAX_SEARCH_TEXT = 100
MAX_SEARCH_WORDS = 5
# Letters and digits of any script; everything else (space, dash, underscore) separates.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    name: str
    description: str
    price: Decimal
    stock: int


class ReservationStatus(StrEnum):
    DECREASED = "decreased"
    RESTORED = "restored"


@dataclass(frozen=True, slots=True)
class ReservationLine:
    product_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """The stock taken for one order, or a tombstone (restored, no items) left by a
    restore that came before its decrease."""

    order_id: int
    status: ReservationStatus
    items: tuple[ReservationLine, ...]


class ProductNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Product not found")


class OutOfStock(Conflict):
    def __init__(self, product_id: int, available: int) -> None:
        super().__init__("Out of stock", product_id=product_id, available=available)


class TooManySearchWords(Invalid):
    def __init__(self) -> None:
        super().__init__("Too many search words", max_words=MAX_SEARCH_WORDS)


class LineLike(Protocol):
    @property
    def product_id(self) -> int: ...

    @property
    def quantity(self) -> int: ...


def merge_lines(lines: Iterable[LineLike]) -> tuple[ReservationLine, ...]:
    """One line per product, by product id (the one lock order: no deadlocks); two
    lines for the same product take their sum."""
    merged: dict[int, int] = {}
    for line in lines:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return tuple(ReservationLine(p, q) for p, q in sorted(merged.items()))


def words_of(text: str) -> list[str]:
    """The search rule, the same for names and queries: "USB-C Hub" -> usb, c, hub."""
    return _WORD.findall(text.lower())


def name_terms(name: str) -> list[str]:
    """What a product is found by: each distinct word of its name."""
    return sorted(set(words_of(name)))


def search_words(text: str) -> tuple[str, ...]:
    """The words of a query, each of which must begin some word of a product's name.

    A word that begins another word of the query is dropped: whatever the longer
    one matches, it matches too, so the answer is the same for one lookup less.
    """
    words = set(words_of(text))
    kept = tuple(sorted(w for w in words if not any(o != w and o.startswith(w) for o in words)))
    if len(kept) > MAX_SEARCH_WORDS:
        raise TooManySearchWords
    return kept


def prefix_range(word: str) -> tuple[str, str]:
    """[low, high): exactly the strings that begin with `word`, in code-point order
    (the term column compares binary on every engine, so an index range finds them)."""
    return word, word[:-1] + chr(ord(word[-1]) + 1)
