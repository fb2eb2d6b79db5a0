"""Rendered pages of the product list and of searches, kept in memory for `max_age` seconds.

Browsing is the hottest path and a second-old stock figure is fine there, so a
page is rendered once and served as bytes until it is a second old, or until
this process changes a product (its name, price or description), whichever comes
first; a stock change waits for the second to pass. A product's own page, and
every call the order saga makes, always read the database.

Each page carries an ETag (a hash of its bytes), so a client that has the page
already is answered 304 without a body. Searches make the keys unbounded, so
the cache holds at most `max_entries` pages and drops the oldest first.
"""

import hashlib
import time
from collections.abc import Hashable
from dataclasses import dataclass

from pydantic import TypeAdapter

from microshop.services.catalog.domain import Product
from microshop.services.catalog.schemas import ProductDetail

MAX_ENTRIES = 256

_LIST = TypeAdapter(list[ProductDetail])


@dataclass(frozen=True, slots=True)
class RenderedPage:
    body: bytes
    etag: str
    rendered_at: float

    def matches(self, if_none_match: str | None) -> bool:
        """Whether the client's If-None-Match names this page (weak tags count: RFC 9110)."""
        if if_none_match is None:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


def render(products: list[Product]) -> RenderedPage:
    body = _LIST.dump_json(_LIST.validate_python(products, from_attributes=True))
    etag = f'"{hashlib.blake2b(body, digest_size=8).hexdigest()}"'
    return RenderedPage(body, etag, time.monotonic())


class ListingCache:
    def __init__(self, max_age: float, max_entries: int = MAX_ENTRIES) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        # Insertion order is age: the first entry is the oldest.
        self._pages: dict[Hashable, RenderedPage] = {}

    def get(self, key: Hashable) -> RenderedPage | None:
        hit = self._pages.get(key)
        if hit is None or time.monotonic() - hit.rendered_at >= self.max_age:
            return None
        return hit

    def put(self, key: Hashable, page: RenderedPage) -> None:
        if self.max_age <= 0:
            return
        self._pages.pop(key, None)
        while len(self._pages) >= self.max_entries:
            del self._pages[next(iter(self._pages))]
        self._pages[key] = page

    def clear(self) -> None:
        self._pages.clear()

    @property
    def headers(self) -> dict[str, str]:
        """Any shared cache may keep a page as long as this process does."""
        return {"Cache-Control": f"public, max-age={self.max_age:g}"} if self.max_age else {}
