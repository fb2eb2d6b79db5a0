"""Product use cases: list and search, read, create, import, update, and the seed.

A product's search terms (domain.name_terms) are written in the same transaction
as its name, so a search never finds a product by a name it no longer has.
"""

from collections.abc import Sequence

from microshop.chassis.data import Database, Transaction, money
from microshop.chassis.outbox import record_event
from microshop.chassis.paging import Page
from microshop.contracts.events import ProductCreated, ProductUpdated
from microshop.services.catalog import store
from microshop.services.catalog.domain import (
    STARTER_PRODUCTS,
    Product,
    ProductNotFound,
    name_terms,
    prefix_range,
)
from microshop.services.catalog.schemas import ProductCreate, ProductUpdate


async def seed_starter_products(db: Database) -> bool:
    """A fresh catalog holds the chapter's products; an existing one is left alone.
    No events: the seed is where the catalog starts, not a change anyone made."""
    async with db.transaction() as tx:
        if await tx.fetch_value(store.COUNT):
            return False
        starters = [
            await _insert_product(tx, ProductCreate(name=name, price=price, stock=stock))
            for name, price, stock in STARTER_PRODUCTS
        ]
        await _write_terms(tx, starters)
    return True


async def list_products(db: Database, words: Sequence[str], page: Page) -> list[Product]:
    """The products whose names have a word beginning with each of `words` (all of
    them when there are none), by id."""
    if not words:
        rows = await store.LISTING.fetch(db, page)
    else:
        ranges = {}
        for i, word in enumerate(words):
            ranges[f"w{i}"], ranges[f"w{i}n"] = prefix_range(word)
        rows = await db.fetch_all(
            store.SEARCH[len(words)], limit=page.limit, offset=page.offset, **ranges
        )
    return [store.product_from(row) for row in rows]


async def get_product(db: Database, product_id: int) -> Product:
    # One primary-key read, never cached: an order must never see a stale price.
    row = await db.fetch_one(store.PRODUCT, id=product_id)
    if row is None:
        raise ProductNotFound
    return store.product_from(row)


async def create_product(db: Database, new: ProductCreate) -> Product:
    async with db.transaction() as tx:
        product = await _insert_product(tx, new)
        await _write_terms(tx, [product])
        await record_event(tx, _fact(ProductCreated, product))
    return product


async def import_products(db: Database, batch: Sequence[ProductCreate]) -> list[int]:
    """All of `batch` or none of it, each product with its terms and its event."""
    async with db.transaction() as tx:
        created = [await _insert_product(tx, new) for new in batch]
        # The batch's terms together: a few statements instead of one per product.
        await _write_terms(tx, created)
        for product in created:
            await record_event(tx, _fact(ProductCreated, product))
    return [product.id for product in created]


async def update_product(db: Database, product_id: int, change: ProductUpdate) -> Product:
    fields = {k: v for k, v in change.model_dump(exclude_unset=True).items() if v is not None}
    if not fields:  # nothing to change: the product as it is
        return await get_product(db, product_id)
    async with db.transaction() as tx:
        if not await tx.execute(store.changing(frozenset(fields)), id=product_id, **fields):
            raise ProductNotFound
        # Read after the write: the row is ours until commit, and its stock current.
        row = await tx.fetch_one(store.PRODUCT, id=product_id)
        assert row is not None  # just updated, and products are never deleted
        product = store.product_from(row)
        if "name" in fields:
            await tx.execute(store.DROP_TERMS, product_id=product_id)
            await _write_terms(tx, [product])
        await record_event(tx, _fact(ProductUpdated, product))
    return product


async def _insert_product(tx: Transaction, new: ProductCreate) -> Product:
    product_id = await tx.insert(store.NEW_PRODUCT, **new.model_dump())
    assert product_id is not None  # a plain insert either adds its row or raises
    return Product(product_id, new.name, new.description, money(new.price), new.stock)


async def _write_terms(tx: Transaction, named: Sequence[Product]) -> None:
    rows = [(product.id, term) for product in named for term in name_terms(product.name)]
    for start in range(0, len(rows), store.TERMS_PER_INSERT):
        chunk = rows[start : start + store.TERMS_PER_INSERT]
        params = {}
        for i, (product_id, term) in enumerate(chunk):
            params[f"p{i}"], params[f"t{i}"] = product_id, term
        await tx.execute(store.new_terms(len(chunk)), **params)


def _fact(
    kind: type[ProductCreated] | type[ProductUpdated], product: Product
) -> ProductCreated | ProductUpdated:
    return kind(id=product.id, name=product.name, price=product.price, stock=product.stock)
