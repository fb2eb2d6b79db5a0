"""Public routes (through the gateway): a customer sees their own orders, an admin all."""

from fastapi import APIRouter

from microshop.chassis.auth import CurrentUser
from microshop.chassis.deps import Db
from microshop.chassis.paging import IdPath, PageQuery
from microshop.services.order_history import store
from microshop.services.order_history.domain import OrderView, OrderViewNotFound
from microshop.services.order_history.schemas import OrderViewPublic

router = APIRouter(prefix="/order-history", tags=["order history"])


@router.get("", response_model=list[OrderViewPublic])
async def list_order_views(db: Db, user: CurrentUser, page: PageQuery) -> list[OrderView]:
    return await store.list_views(db, page, user_id=user.owner_filter)


@router.get("/{order_id}", response_model=OrderViewPublic)
async def get_order_view(order_id: IdPath, db: Db, user: CurrentUser) -> OrderView:
    view = await store.find_view(db, order_id)
    # Another customer's order is answered exactly like a missing one.
    if view is None or not view.visible_to(user.user_id, user.is_admin):
        raise OrderViewNotFound
    return view
