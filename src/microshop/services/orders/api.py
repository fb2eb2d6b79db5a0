from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from microshop.chassis.auth import CurrentUser
from microshop.chassis.db import Session
from microshop.services.orders import service
from microshop.services.orders.domain import MAX_IDEMPOTENCY_KEY, MAX_PAGE, page
from microshop.services.orders.models import OrderRow
from microshop.services.orders.schemas import OrderCreate, OrderProduct, OrderPublic, OrderUser

router = APIRouter(prefix="/orders", tags=["orders"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        description="A retry with the same key returns the first order instead of a new one",
    ),
]


@router.post("", response_model=OrderPublic, status_code=201)
async def place_order(
    new: OrderCreate,
    request: Request,
    response: Response,
    session: Session,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    placed = await service.place_order(
        session, request.app.state.client, user, new, idempotency_key
    )
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return to_public(placed.order)


@router.get("", response_model=list[OrderPublic])
async def list_orders(
    session: Session,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, description=f"capped at {MAX_PAGE}")] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OrderPublic]:
    return [to_public(o) for o in await service.list_orders(session, user, page(limit, offset))]


@router.get("/{order_id}", response_model=OrderPublic)
async def get_order(order_id: int, session: Session, user: CurrentUser) -> OrderPublic:
    return to_public(await service.get_order(session, user, order_id))


def to_public(order: OrderRow) -> OrderPublic:
    # Today's API places one product per order: its only line is "the product".
    line = order.lines[0]
    return OrderPublic(
        id=order.id,
        user=OrderUser(id=order.user_id, name=order.user_name, email=order.user_email),
        product=OrderProduct(id=line.product_id, name=line.product_name, price=line.unit_price),
        quantity=line.quantity,
        total=order.total,
        status=order.status,
        created_at=order.created_at,
    )
