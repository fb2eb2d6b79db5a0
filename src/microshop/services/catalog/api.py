from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from microshop.chassis.auth import AdminUser
from microshop.chassis.db import Session
from microshop.services.catalog import service
from microshop.services.catalog.domain import MAX_PAGE, page
from microshop.services.catalog.listing import ListingCache, render
from microshop.services.catalog.schemas import ProductCreate, ProductDetail, ProductUpdate

router = APIRouter(prefix="/products", tags=["products"])


@router.get("", response_model=list[ProductDetail])
async def list_products(
    session: Session,
    request: Request,
    limit: Annotated[int, Query(ge=1, description=f"capped at {MAX_PAGE}")] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    cache: ListingCache = request.app.state.listing
    wanted = page(limit, offset)
    body = cache.get(wanted)
    if body is None:
        body = render(await service.list_products(session, wanted))
        cache.put(wanted, body)
    # Any shared cache may do as this process does (listing.py).
    headers = {"Cache-Control": f"public, max-age={cache.max_age:g}"} if cache.max_age else {}
    return Response(body, media_type="application/json", headers=headers)


@router.get("/{product_id}", response_model=ProductDetail)
async def get_product(product_id: int, session: Session) -> object:
    return await service.get_product(session, product_id)


@router.post("", response_model=ProductDetail, status_code=201)
async def create_product(
    new: ProductCreate, request: Request, session: Session, _: AdminUser
) -> object:
    product = await service.create_product(session, new)
    request.app.state.listing.clear()
    return product


@router.patch("/{product_id}", response_model=ProductDetail)
async def update_product(
    product_id: int, change: ProductUpdate, request: Request, session: Session, _: AdminUser
) -> object:
    product = await service.update_product(session, product_id, change)
    request.app.state.listing.clear()
    return product
