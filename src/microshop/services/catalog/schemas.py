"""The catalog's request and response shapes (ProductCreate, ProductDetail, StockChange, ...)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from microshop.chassis.paging import IdField
from microshop.chassis.schemas import RequestModel
from microshop.contracts.api import ProductPublic
from microshop.contracts.money import Money
from microshop.services.catalog.models import MAX_NAME

# One import request's products: enough to load a large catalog in few requests,
# few enough that one transaction stays short.
MAX_IMPORT = 1000

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Description = Annotated[str, Field(max_length=2000)]
Stock = Annotated[int, Field(ge=0, le=1_000_000_000)]


class ProductCreate(RequestModel):
    name: Name
    description: Description = ""
    price: Money
    stock: Stock


class ProductUpdate(RequestModel):
    name: Name | None = None
    description: Description | None = None
    price: Money | None = None
    stock: Stock | None = None


class ProductDetail(ProductPublic):
    model_config = ConfigDict(from_attributes=True)

    description: str = ""


class ImportResult(BaseModel):
    created: int
    ids: list[int]


class StockLineIn(RequestModel):
    product_id: IdField
    quantity: int = Field(ge=1, le=1_000_000)


class StockChange(RequestModel):
    """The saga's request to decrease an order's stock."""

    order_id: IdField
    items: list[StockLineIn] = Field(min_length=1, max_length=100)


class StockRestore(RequestModel):
    order_id: IdField


class ReservedLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    quantity: int


class ReservationPublic(BaseModel):
    """`status` is "decreased", or "restored" (the saga reads that as cancelled)."""

    model_config = ConfigDict(from_attributes=True)

    order_id: int
    status: str
    items: list[ReservedLine]
