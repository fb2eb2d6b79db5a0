"""The rendered product list, kept in memory for `max_age` seconds.

Browsing is the hottest path and a second-old stock figure is fine there, so a
page of the list is rendered once and served as bytes until it is a second old,
or until this process changes a product or its stock, whichever comes first. A
product's own page, and every call the order saga makes, always read the database.
"""

import time

from pydantic import TypeAdapter

from microshop.services.catalog.domain import Page
from microshop.services.catalog.models import ProductRow
from microshop.services.catalog.schemas import ProductDetail

_LIST = TypeAdapter(list[ProductDetail])


def render(products: list[ProductRow]) -> bytes:
    return _LIST.dump_json(_LIST.validate_python(products, from_attributes=True))


class ListingCache:
    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._pages: dict[Page, tuple[float, bytes]] = {}

    def get(self, page: Page) -> bytes | None:
        hit = self._pages.get(page)
        if hit is None or time.monotonic() - hit[0] >= self.max_age:
            return None
        return hit[1]

    def put(self, page: Page, body: bytes) -> None:
        if self.max_age > 0:
            self._pages[page] = (time.monotonic(), body)

    def clear(self) -> None:
        self._pages.clear()
