"""Catalog use cases. They take a session and return rows; the API shapes them."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.errors import NotFound
from microshop.chassis.outbox import record_event
from microshop.contracts.events import ProductCreated, ProductUpdated
from microshop.services.catalog.domain import STARTER_PRODUCTS, Page
from microshop.services.catalog.models import ProductRow
from microshop.services.catalog.schemas import ProductCreate, ProductUpdate


async def seed_starter_products(session: AsyncSession) -> bool:
    """A fresh catalog holds the chapter's products; an existing one is left alone."""
    if await session.scalar(select(func.count()).select_from(ProductRow)):
        return False
    session.add_all(
        ProductRow(name=name, price=price, stock=stock) for name, price, stock in STARTER_PRODUCTS
    )
    await session.commit()
    return True


async def list_products(session: AsyncSession, page: Page) -> list[ProductRow]:
    query = select(ProductRow).order_by(ProductRow.id).limit(page.limit).offset(page.offset)
    return list(await session.scalars(query))


async def get_product(session: AsyncSession, product_id: int) -> ProductRow:
    product = await session.get(ProductRow, product_id)
    if product is None:
        raise NotFound("Product not found")
    return product


async def create_product(session: AsyncSession, new: ProductCreate) -> ProductRow:
    product = ProductRow(**new.model_dump())
    session.add(product)
    await session.flush()
    await record_event(session, _fact(ProductCreated, product))
    await session.commit()
    return product


async def update_product(
    session: AsyncSession, product_id: int, change: ProductUpdate
) -> ProductRow:
    product = await get_product(session, product_id)
    for field, value in change.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(product, field, value)
    await record_event(session, _fact(ProductUpdated, product))
    await session.commit()
    return product


def _fact(kind: type[ProductCreated] | type[ProductUpdated], product: ProductRow) -> ProductCreated:
    return kind(id=product.id, name=product.name, price=product.price, stock=product.stock)
