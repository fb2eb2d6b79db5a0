"""The users' request and response shapes (UserCreate, UserDetail, TokenRequest, TokenReply)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from microshop.chassis.schemas import RequestModel
from microshop.contracts.api import UserPublic
from microshop.services.users.domain import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]


class UserCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    email: EmailStr
    # Optional here because open mode allows it; the use case applies the mode's policy.
    password: Password | None = None


class UserDetail(UserPublic):
    model_config = ConfigDict(from_attributes=True)

    role: str


class TokenRequest(RequestModel):
    # A plain string, not EmailStr: a malformed address is just a failed login (401).
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class TokenReply(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


__all__ = ["TokenReply", "TokenRequest", "UserCreate", "UserDetail", "UserPublic"]
