"""Public routes (through the gateway): anyone browses and searches, an admin edits."""

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from microshop.chassis.auth import AdminUser
from microshop.chassis.data import Database
from microshop.chassis.deps import Db
from microshop.chassis.lean import LeanRoutes, database, page_of, query_text
from microshop.chassis.paging import IdPath, Page, PageQuery
from microshop.services.catalog import schemas, service
from microshop.services.catalog.domain import (
    MAX_SEARCH_TEXT,
    MAX_SEARCH_WORDS,
    Product,
    search_words,
)
from microshop.services.catalog.listing import ListingCache, render

router = APIRouter(prefix="/products", tags=["products"])
# The product list is the busiest path of all: served lean (chassis/lean.py); the
# FastAPI route below documents it and answers the same way.
lean = LeanRoutes("/products")
# The same list under its public path: the gateway's HTTP cache fetches a page it
# does not hold with the path as the client sent it (Envoy applies no prefix
# rewrite to a cache fill), so the catalog answers that path too.
cacheable = LeanRoutes("/api/products")

SearchText = Annotated[
    str,
    Query(
        max_length=MAX_SEARCH_TEXT,
        description=f"each of its words (at most {MAX_SEARCH_WORDS}) begins a word of the name",
    ),
]
ImportBatch = Annotated[
    list[schemas.ProductCreate], Body(min_length=1, max_length=schemas.MAX_IMPORT)
]


def _listing(request: Request) -> ListingCache:
    return request.app.state.listing  # type: ignore[no-any-return]


@router.get(
    "",
    response_model=list[schemas.ProductDetail],
    responses={304: {"description": "the page named by If-None-Match is still current"}},
)
async def list_products(db: Db, request: Request, page: PageQuery, q: SearchText = "") -> Response:
    return await _page_of_products(db, request, page, q)


@cacheable.get("")
@lean.get("")
async def list_products_lean(request: Request) -> Response:
    q = query_text(request, "q", MAX_SEARCH_TEXT)
    return await _page_of_products(database(request), request, page_of(request), q)


async def _page_of_products(db: Database, request: Request, page: Page, q: str) -> Response:
    words = search_words(q)
    cache = _listing(request)
    key = (words, page)
    listed = cache.get(key)
    if listed is None:
        listed = render(await service.list_products(db, words, page))
        cache.put(key, listed)
    headers = {"ETag": listed.etag, **cache.headers}
    if listed.matches(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(listed.body, media_type="application/json", headers=headers)


@router.get("/{product_id}", response_model=schemas.ProductDetail)
async def get_product(product_id: IdPath, db: Db) -> Product:
    return await service.get_product(db, product_id)


@router.post("", response_model=schemas.ProductDetail, status_code=201)
async def create_product(
    new: schemas.ProductCreate, request: Request, db: Db, _: AdminUser
) -> Product:
    product = await service.create_product(db, new)
    _listing(request).clear()
    return product


@router.post("/import", response_model=schemas.ImportResult, status_code=201)
async def import_products(
    batch: ImportBatch, request: Request, db: Db, _: AdminUser
) -> schemas.ImportResult:
    ids = await service.import_products(db, batch)
    _listing(request).clear()
    return schemas.ImportResult(created=len(ids), ids=ids)


@router.patch("/{product_id}", response_model=schemas.ProductDetail)
async def update_product(
    product_id: IdPath, change: schemas.ProductUpdate, request: Request, db: Db, _: AdminUser
) -> Product:
    product = await service.update_product(db, product_id, change)
    _listing(request).clear()
    return product
