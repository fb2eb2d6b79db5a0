from typing import Annotated

from fastapi import APIRouter, Query

from microshop.chassis.auth import AdminUser
from microshop.chassis.db import Session
from microshop.services.catalog import service
from microshop.services.catalog.domain import MAX_PAGE, page
from microshop.services.catalog.schemas import ProductCreate, ProductDetail, ProductUpdate

router = APIRouter(prefix="/products", tags=["products"])


@router.get("", response_model=list[ProductDetail])
async def list_products(
    session: Session,
    limit: Annotated[int, Query(ge=1, description=f"capped at {MAX_PAGE}")] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> object:
    return await service.list_products(session, page(limit, offset))


@router.get("/{product_id}", response_model=ProductDetail)
async def get_product(product_id: int, session: Session) -> object:
    return await service.get_product(session, product_id)


@router.post("", response_model=ProductDetail, status_code=201)
async def create_product(new: ProductCreate, session: Session, _: AdminUser) -> object:
    return await service.create_product(session, new)


@router.patch("/{product_id}", response_model=ProductDetail)
async def update_product(
    product_id: int, change: ProductUpdate, session: Session, _: AdminUser
) -> object:
    return await service.update_product(session, product_id, change)
