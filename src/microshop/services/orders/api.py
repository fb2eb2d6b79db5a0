import re
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from microshop.chassis.auth import CurrentUser
from microshop.chassis.db import Session
from microshop.services.orders import service
from microshop.services.orders.domain import MAX_IDEMPOTENCY_KEY, MAX_PAGE, page
from microshop.services.orders.models import OrderRow, SagaRow, SagaStepRow
from microshop.services.orders.orchestrator import Orchestrator
from microshop.services.orders.schemas import (
    OrderCreate,
    OrderItemPublic,
    OrderProduct,
    OrderPublic,
    OrderUser,
    SagaPublic,
    SagaStepPublic,
)

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
Prefer = Annotated[
    str | None,
    Header(description="`wait=N`: answer once the order is final, or after N seconds (max 30)"),
]
MAX_WAIT = 30.0


def wait_seconds(prefer: str | None) -> float:
    match = re.search(r"\bwait=(\d+(?:\.\d+)?)", prefer or "")
    return min(float(match.group(1)), MAX_WAIT) if match else 0.0


def orchestrator(request: Request) -> Orchestrator:
    return request.app.state.orchestrator  # type: ignore[no-any-return]


@router.post("", response_model=OrderPublic, status_code=201)
async def place_order(
    new: OrderCreate,
    request: Request,
    response: Response,
    session: Session,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> OrderPublic:
    placed = await service.place_order(
        session, request.app.state.client, user, new, idempotency_key
    )
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    else:
        orchestrator(request).launch(placed.order.id)
    if wait := wait_seconds(prefer):
        return await _after_waiting(request, session, placed.order.id, wait, response)
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
    order = await service.get_order(session, user, order_id)
    saga, steps = await service.saga_timeline(session, order_id)
    if saga is not None and saga.phase == "done" and order.status != saga.outcome:
        # The saga finished between the two reads; its last transaction also wrote
        # the order, so read it again rather than answer "pending" beside "done".
        await session.refresh(order)
    return to_public(order, saga, steps)


@router.post("/{order_id}/cancel", response_model=OrderPublic, status_code=202)
async def cancel_order(
    order_id: int,
    request: Request,
    response: Response,
    session: Session,
    user: CurrentUser,
    prefer: Prefer = None,
) -> OrderPublic:
    await service.request_cancel(session, request.app.state.client, user, order_id)
    orchestrator(request).launch(order_id)
    if wait := wait_seconds(prefer):
        return await _after_waiting(request, session, order_id, wait, response, final_status=200)
    return await get_order(order_id, session, user)


async def _after_waiting(
    request: Request,
    session: Session,
    order_id: int,
    wait: float,
    response: Response,
    final_status: int | None = None,
) -> OrderPublic:
    await session.rollback()  # hold no connection while waiting
    await orchestrator(request).wait_finished(order_id, wait)
    session.expire_all()
    order = await session.get(OrderRow, order_id)
    assert order is not None
    await session.refresh(order)
    timeline = await service.saga_timeline(session, order_id)
    if final_status and timeline[0] is not None and timeline[0].phase == "done":
        response.status_code = final_status
    return to_public(order, *timeline)


def to_public(
    order: OrderRow, saga: SagaRow | None = None, steps: list[SagaStepRow] | None = None
) -> OrderPublic:
    first = order.lines[0]
    return OrderPublic(
        id=order.id,
        user=OrderUser(id=order.user_id, name=order.user_name, email=order.user_email),
        product=OrderProduct(id=first.product_id, name=first.product_name, price=first.unit_price),
        quantity=first.quantity,
        items=[
            OrderItemPublic(
                product_id=line.product_id,
                name=line.product_name,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in order.lines
        ],
        total=order.total,
        status=order.status,
        reason=order.reason,
        created_at=order.created_at,
        saga=None
        if saga is None
        else SagaPublic(
            phase=saga.phase,
            outcome=saga.outcome,
            steps=[
                SagaStepPublic(step=s.step, event=s.event, detail=s.detail, at=s.at)
                for s in steps or []
            ],
        ),
    )
