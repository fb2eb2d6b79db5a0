import re
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from microshop.chassis.auth import CurrentUser, Principal, current_user
from microshop.chassis.deps import Client, Db
from microshop.chassis.idempotency import IdempotencyKey, mark_replayed, optional_key
from microshop.chassis.lean import LeanRoutes, reply
from microshop.chassis.paging import IdPath, PageQuery
from microshop.chassis.tracing import annotate_order
from microshop.services.orders import schemas, service
from microshop.services.orders.domain import Order
from microshop.services.orders.orchestrator import Orchestrator
from microshop.services.orders.service import Timeline

router = APIRouter(prefix="/orders", tags=["orders"])
# Placing an order is the busiest write: served lean (chassis/lean.py); the FastAPI
# route below documents it and answers the same way.
lean = LeanRoutes("/orders")

Prefer = Annotated[
    str | None,
    Header(description="`wait=N`: answer once the order is final, or after N seconds (max 30)"),
]
MAX_WAIT = 30.0


def wait_seconds(prefer: str | None) -> float:
    match = re.search(r"\bwait=(\d{1,5}(?:\.\d{1,6})?)\b", prefer or "")
    return min(float(match.group(1)), MAX_WAIT) if match else 0.0


def orchestrator(request: Request) -> Orchestrator:
    return request.app.state.orchestrator  # type: ignore[no-any-return]


@router.post("", response_model=schemas.OrderPublic, status_code=201)
async def place_order(
    new: schemas.OrderCreate,
    request: Request,
    response: Response,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> schemas.OrderPublic:
    public, replayed = await _place(request, user, new, idempotency_key, prefer)
    if replayed:
        mark_replayed(response)
    return public


@lean.post_json("", schemas.OrderCreate)
async def place_order_lean(request: Request, new: schemas.OrderCreate) -> Response:
    user = await current_user(request)
    public, replayed = await _place(
        request, user, new, optional_key(request), request.headers.get("prefer")
    )
    return reply(public, 201, {"Idempotent-Replayed": "true"} if replayed else None)


async def _place(
    request: Request,
    user: Principal,
    new: schemas.OrderCreate,
    idempotency_key: str | None,
    prefer: str | None,
) -> tuple[schemas.OrderPublic, bool]:
    """Places the order, starts its saga here, and answers at once or, with
    `Prefer: wait=N`, once the saga is done (or N seconds have passed)."""
    sagas = orchestrator(request)
    db, client = request.app.state.db, request.app.state.client
    placed = await service.place_order(db, client, user, new, sagas.saga_owner, idempotency_key)
    annotate_order(placed.order.id)
    if not placed.replayed:
        sagas.launch(placed.order.id, placed.progress)
    if wait := wait_seconds(prefer):
        await sagas.wait_finished(placed.order.id, wait)
        return await _with_timeline(db, user, placed.order.id), placed.replayed
    return to_public(placed.order), placed.replayed


@router.get("", response_model=list[schemas.OrderPublic])
async def list_orders(db: Db, user: CurrentUser, page: PageQuery) -> list[schemas.OrderPublic]:
    return [to_public(order) for order in await service.list_orders(db, user, page)]


@router.get("/{order_id}", response_model=schemas.OrderPublic)
async def get_order(order_id: IdPath, db: Db, user: CurrentUser) -> schemas.OrderPublic:
    annotate_order(order_id)
    return await _with_timeline(db, user, order_id)


@router.post("/{order_id}/cancel", response_model=schemas.OrderPublic, status_code=202)
async def cancel_order(
    order_id: IdPath,
    request: Request,
    response: Response,
    db: Db,
    client: Client,
    user: CurrentUser,
    prefer: Prefer = None,
) -> schemas.OrderPublic:
    annotate_order(order_id)
    await service.request_cancel(db, client, user, order_id)
    orchestrator(request).launch(order_id)
    if wait := wait_seconds(prefer):
        return await _after_waiting(request, db, user, order_id, wait, response, final_status=200)
    return await _with_timeline(db, user, order_id)


async def _with_timeline(db: Db, user: Principal, order_id: int) -> schemas.OrderPublic:
    order = await service.get_order(db, user, order_id)
    timeline = await service.saga_timeline(db, order_id)
    if timeline is not None and timeline.phase == "done" and order.status != timeline.outcome:
        # The saga finished between the two reads; its last transaction also wrote
        # the order, so read it again rather than answer "pending" beside "done".
        order = await service.get_order(db, user, order_id)
    return to_public(order, timeline)


async def _after_waiting(
    request: Request,
    db: Db,
    user: Principal,
    order_id: int,
    wait: float,
    response: Response,
    final_status: int | None = None,
) -> schemas.OrderPublic:
    await orchestrator(request).wait_finished(order_id, wait)
    public = await _with_timeline(db, user, order_id)
    if final_status and public.saga is not None and public.saga.phase == "done":
        response.status_code = final_status
    return public


def to_public(order: Order, timeline: Timeline | None = None) -> schemas.OrderPublic:
    first = order.lines[0]
    customer = order.customer
    return schemas.OrderPublic(
        id=order.id,
        user=schemas.OrderUser(id=customer.id, name=customer.name, email=customer.email),
        product=schemas.OrderProduct(
            id=first.product_id, name=first.product_name, price=first.unit_price
        ),
        quantity=first.quantity,
        items=[
            schemas.OrderItemPublic(
                product_id=line.product_id,
                name=line.product_name,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in order.lines
        ],
        total=order.total,
        status=order.status.value,
        reason=order.reason,
        created_at=order.created_at,
        saga=None
        if timeline is None
        else schemas.SagaPublic(
            phase=timeline.phase,
            outcome=timeline.outcome,
            steps=[
                schemas.SagaStepPublic(
                    step=s["step"], event=s["event"], detail=s["detail"], at=s["at"]
                )
                for s in timeline.steps
            ],
        ),
    )
