"""The storefront's own rules: the cart and what a form may hold. Pure Python, no I/O.

The cart lives in the visitor's cookie, not in a database: it is a list of
(product, quantity) lines and nothing else. Names and prices are read from the
catalog whenever the cart is shown, and the orders service checks every line
again when the order is placed, so a cart a visitor edits by hand gains them
nothing.
"""

import re
from dataclasses import dataclass

# The orders service's bounds for one order (services/orders/domain.py).
MAX_QUANTITY = 1000
MAX_LINES = 50
MAX_ID = 2**31 - 1
# The users service's bounds (services/users/domain.py and schemas.py).
MIN_PASSWORD = 8
MAX_PASSWORD = 128
MAX_NAME = 100
MAX_EMAIL = 320
# The catalog's bound on a search (services/catalog/domain.py).
MAX_SEARCH = 100

_LINE = re.compile(r"^(\d{1,10})x(\d{1,4})$")
_CARD = re.compile(r"^[0-9 -]{12,23}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FormError(ValueError):
    """What was wrong with a form, as a sentence for the visitor."""


@dataclass(frozen=True, slots=True)
class CartLine:
    product_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Cart:
    lines: tuple[CartLine, ...] = ()

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def quantity_of(self, product_id: int) -> int:
        return next((ln.quantity for ln in self.lines if ln.product_id == product_id), 0)

    def add(self, product_id: int, quantity: int) -> "Cart":
        return self.set(product_id, self.quantity_of(product_id) + quantity)

    def set(self, product_id: int, quantity: int) -> "Cart":
        """The cart with this line at `quantity` (0 removes it), in the order added."""
        if quantity > MAX_QUANTITY:
            raise FormError(f"You can order at most {MAX_QUANTITY} of one product.")
        if quantity <= 0:
            return Cart(tuple(ln for ln in self.lines if ln.product_id != product_id))
        if self.quantity_of(product_id):
            return Cart(
                tuple(
                    CartLine(product_id, quantity) if ln.product_id == product_id else ln
                    for ln in self.lines
                )
            )
        if len(self.lines) >= MAX_LINES:
            raise FormError(f"A cart holds at most {MAX_LINES} different products.")
        return Cart((*self.lines, CartLine(product_id, quantity)))

    def encode(self) -> str:
        """The cookie's value: `3x2.1x1` is two of product 3 and one of product 1."""
        return ".".join(f"{ln.product_id}x{ln.quantity}" for ln in self.lines)

    @classmethod
    def decode(cls, text: str | None) -> "Cart":
        """A cookie that is not a cart (edited, truncated, from an older version)
        is an empty cart: the visitor loses a cart, never sees an error."""
        lines: dict[int, int] = {}
        for part in (text or "").split(".")[:MAX_LINES]:
            match = _LINE.match(part)
            if match is None:
                return cls()
            product_id, quantity = int(match.group(1)), int(match.group(2))
            if not 1 <= product_id <= MAX_ID or not 1 <= quantity <= MAX_QUANTITY:
                return cls()
            lines.setdefault(product_id, quantity)
        return cls(tuple(CartLine(p, q) for p, q in lines.items()))


def parse_id(text: str | None) -> int | None:
    """A product or order id from a path or a form; None when it cannot be one."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_quantity(text: str | None, *, allow_zero: bool = False) -> int:
    lowest = 0 if allow_zero else 1
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or not lowest <= int(value) <= MAX_QUANTITY:
        raise FormError(f"The quantity must be a whole number from {lowest} to {MAX_QUANTITY}.")
    return int(value)


def parse_page(text: str | None) -> int:
    """A page number from the query string; anything that is not one is page 1."""
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        return 1
    return max(1, int(value))


def clean_search(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_SEARCH]


@dataclass(frozen=True, slots=True)
class Registration:
    name: str
    email: str
    password: str


def check_registration(name: str, email: str, password: str, confirm: str) -> Registration:
    """The form's fields, or a FormError saying the first thing to correct."""
    name = " ".join(name.split())
    email = email.strip()
    if not name:
        raise FormError("Please enter your name.")
    if len(name) > MAX_NAME:
        raise FormError(f"Your name can be at most {MAX_NAME} characters long.")
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise FormError("Please enter a valid e-mail address, such as ada@example.com.")
    if len(password) < MIN_PASSWORD:
        raise FormError(f"Your password must be at least {MIN_PASSWORD} characters long.")
    if len(password) > MAX_PASSWORD:
        raise FormError(f"Your password can be at most {MAX_PASSWORD} characters long.")
    if password != confirm:
        raise FormError("The two passwords do not match.")
    if "\x00" in name + email + password:
        raise FormError("The form holds a character that cannot be stored (U+0000).")
    return Registration(name, email, password)


def check_sign_in(email: str, password: str) -> tuple[str, str]:
    email = email.strip()
    if not email or not password:
        raise FormError("Please enter your e-mail address and your password.")
    if len(email) > MAX_EMAIL or len(password) > MAX_PASSWORD or "\x00" in email + password:
        raise FormError("That e-mail address and password do not match an account.")
    return email, password


def check_card(text: str) -> str | None:
    """The card number to pay with, or None for the simulated processor's test card."""
    card = text.strip()
    if not card:
        return None
    if not _CARD.match(card) or not 12 <= sum(c.isdigit() for c in card) <= 19:
        raise FormError("A card number has 12 to 19 digits (spaces and dashes are fine).")
    return card


def safe_next(path: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path on this site only, never another site
    (`//evil.example` and `/\\evil.example` are other sites to a browser)."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return default
    if len(path) > 200 or not path.isascii() or not path.isprintable():
        return default
    return path
