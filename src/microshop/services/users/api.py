from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from microshop.chassis.auth import AdminUser, CurrentUser
from microshop.chassis.db import Session
from microshop.chassis.errors import NotFound
from microshop.services.users import service
from microshop.services.users.domain import MAX_PAGE, page
from microshop.services.users.keys import SigningKey
from microshop.services.users.schemas import TokenReply, TokenRequest, UserCreate, UserDetail

users_router = APIRouter(prefix="/users", tags=["users"])
auth_router = APIRouter(prefix="/auth", tags=["auth"])


@users_router.post("", response_model=UserDetail, status_code=201)
async def register(new: UserCreate, session: Session, request: Request) -> object:
    open_mode: bool = request.app.state.settings.open_mode
    return await service.register_user(session, new, open_mode=open_mode)


@users_router.get("", response_model=list[UserDetail])
async def list_users(
    session: Session,
    _: AdminUser,
    limit: Annotated[int, Query(ge=1, description=f"capped at {MAX_PAGE}")] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> object:
    return await service.list_users(session, page(limit, offset))


@users_router.get("/me", response_model=UserDetail)
async def me(session: Session, principal: CurrentUser) -> object:
    if principal.user_id is None:
        raise NotFound("Open mode has no signed-in user")
    return await service.get_user(session, principal.user_id)


@users_router.get("/{user_id}", response_model=UserDetail)
async def get_user(user_id: int, session: Session, principal: CurrentUser) -> object:
    # Someone else's account looks exactly like a missing one: existence does not leak.
    if not principal.may_act_for(user_id):
        raise NotFound("User not found")
    return await service.get_user(session, user_id)


@auth_router.post("/token", response_model=TokenReply)
async def token(login: TokenRequest, session: Session, request: Request) -> object:
    ttl: int = request.app.state.settings.token_ttl_seconds
    key = request.app.state.signing_key
    return await service.issue_token(session, key, login.email, login.password, ttl_seconds=ttl)


@auth_router.get("/jwks")
async def jwks(request: Request) -> dict[str, list[dict[str, Any]]]:
    key: SigningKey = request.app.state.signing_key
    return key.jwks()
