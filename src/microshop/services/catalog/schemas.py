"""The catalog's request and response shapes (ProductCreate, ProductUpdate, ProductPublic)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from microshop.contracts.api import ProductPublic
from microshop.contracts.money import Money

Name = Annotated[str, Field(min_length=1, max_length=200)]
Stock = Annotated[int, Field(ge=0, le=1_000_000_000)]


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: str = Field("", max_length=2000)
    price: Money
    stock: Stock


class ProductUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: str | None = Field(None, max_length=2000)
    price: Money | None = None
    stock: Stock | None = None


class ProductDetail(ProductPublic):
    description: str = ""


__all__ = ["ProductCreate", "ProductDetail", "ProductPublic", "ProductUpdate"]


class StockLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: int = Field(ge=1, le=2**31 - 1)
    quantity: int = Field(ge=1, le=1_000_000)


class StockChange(BaseModel):
    """The saga's request to decrease an order's stock."""

    model_config = ConfigDict(extra="forbid")

    order_id: int = Field(ge=1, le=2**31 - 1)
    items: list[StockLineIn] = Field(min_length=1, max_length=100)


class StockRestore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: int = Field(ge=1, le=2**31 - 1)


class ReservationPublic(BaseModel):
    order_id: int
    status: str
    items: list[StockLineIn]
