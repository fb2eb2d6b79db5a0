from typing import Any

from fastapi import APIRouter, Request

from microshop.chassis.auth import AdminUser, CurrentUser
from microshop.chassis.deps import Db
from microshop.chassis.paging import IdPath, PageQuery
from microshop.services.users import service
from microshop.services.users.domain import User, UserNotFound
from microshop.services.users.keys import SigningKey
from microshop.services.users.schemas import TokenReply, TokenRequest, UserCreate, UserDetail

users_router = APIRouter(prefix="/users", tags=["users"])
auth_router = APIRouter(prefix="/auth", tags=["auth"])


@users_router.post("", response_model=UserDetail, status_code=201)
async def register(new: UserCreate, db: Db, request: Request) -> User:
    open_mode: bool = request.app.state.settings.open_mode
    return await service.register_user(db, new, open_mode=open_mode)


@users_router.get("", response_model=list[UserDetail])
async def list_users(db: Db, _: AdminUser, page: PageQuery) -> list[User]:
    return await service.list_users(db, page)


@users_router.get("/me", response_model=UserDetail)
async def me(db: Db, principal: CurrentUser) -> User:
    if principal.user_id is None:
        raise UserNotFound  # open mode has no signed-in user
    return await service.get_user(db, principal.user_id)


@users_router.get("/{user_id}", response_model=UserDetail)
async def get_user(user_id: IdPath, db: Db, principal: CurrentUser) -> User:
    # Someone else's account looks exactly like a missing one: existence does not leak.
    if not principal.may_act_for(user_id):
        raise UserNotFound
    return await service.get_user(db, user_id)


@auth_router.post("/token", response_model=TokenReply)
async def token(login: TokenRequest, db: Db, request: Request) -> TokenReply:
    ttl: int = request.app.state.settings.token_ttl_seconds
    key = request.app.state.signing_key
    return await service.issue_token(db, key, login.email, login.password, ttl_seconds=ttl)


@auth_router.get("/jwks")
async def jwks(request: Request) -> dict[str, list[dict[str, Any]]]:
    key: SigningKey = request.app.state.signing_key
    return key.jwks()
