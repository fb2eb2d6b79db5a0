"""Public API shapes that one service reads from another (the HTTP contracts)."""

from pydantic import BaseModel, ConfigDict

from microshop.contracts.money import Money


class _Public(BaseModel):
    # Readers ignore fields they do not know: a producer may add fields freely.
    model_config = ConfigDict(extra="ignore")


class UserPublic(_Public):
    id: int
    name: str
    email: str


class ProductPublic(_Public):
    id: int
    name: str
    price: Money
    stock: int
