from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from microshop.chassis.auth import CurrentUser
from microshop.chassis.db import Session
from microshop.chassis.errors import NotFound
from microshop.services.order_history.models import OrderViewRow
from microshop.services.order_history.schemas import OrderViewPublic

router = APIRouter(prefix="/order-history", tags=["order history"])


@router.get("", response_model=list[OrderViewPublic])
async def list_order_views(
    session: Session,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> object:
    query = select(OrderViewRow).order_by(OrderViewRow.order_id.desc())
    if not user.is_admin:
        query = query.where(OrderViewRow.user_id == user.user_id)
    return list(await session.scalars(query.limit(min(limit, 100)).offset(offset)))


@router.get("/{order_id}", response_model=OrderViewPublic)
async def get_order_view(order_id: int, session: Session, user: CurrentUser) -> object:
    view = await session.get(OrderViewRow, order_id) if 1 <= order_id < 2**31 else None
    if view is None or not (user.is_admin or view.user_id == user.user_id):
        raise NotFound("Order not found")
    return view
