"""Order use cases. They take a session and the service client (the ports) and
return rows; the API shapes them. Users and products are read through their
services' HTTP APIs, never their databases."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.auth import Principal
from microshop.chassis.client import ServiceClient
from microshop.chassis.errors import ApiError, Conflict, Forbidden, NotFound
from microshop.chassis.outbox import record_event
from microshop.contracts.events import OrderCreated, OrderItem
from microshop.services.orders import peers, saga
from microshop.services.orders.domain import (
    MAX_ID,
    Caller,
    CannotOrderForAnotherUser,
    OrderLine,
    OrderStatus,
    Page,
    UserIdRequired,
    customer_for,
    order_total,
    request_fingerprint,
)
from microshop.services.orders.models import OrderLineRow, OrderRow, SagaRow, SagaStepRow
from microshop.services.orders.saga import CannotCancel, Outcome, Phase
from microshop.services.orders.saga_store import state_of
from microshop.services.orders.schemas import OrderCreate


@dataclass(frozen=True, slots=True)
class Placed:
    order: OrderRow
    # True when an Idempotency-Key retry found the order placed by the first attempt.
    replayed: bool


# A cancel re-reads the saga this many times when it keeps moving meanwhile.
CANCEL_ATTEMPTS = 3


def caller_of(principal: Principal) -> Caller:
    return Caller(user_id=principal.user_id, is_admin=principal.is_admin)


async def place_order(
    session: AsyncSession,
    client: ServiceClient,
    principal: Principal,
    new: OrderCreate,
    idempotency_key: str | None = None,
) -> Placed:
    """Stores the order `pending` with its saga and its `order.created` event in one
    transaction; the orchestrator takes it from there (the caller launches it)."""
    caller = caller_of(principal)
    customer_id = _customer(caller, new.user_id)
    wanted = new.wanted()
    fingerprint = request_fingerprint(customer_id, wanted)
    # Only an optimisation: the unique constraint below is what makes retries safe.
    if idempotency_key and (earlier := await _by_key(session, caller, idempotency_key)):
        return _replay(earlier, fingerprint)
    # End the read before calling peers: no pooled connection waits on the network.
    await session.rollback()

    user = await peers.fetch_user(client, customer_id, principal.token)
    products = await asyncio.gather(
        *(
            peers.fetch_product(client, product_id, principal.token)
            for product_id in dict.fromkeys(p for p, _ in wanted)
        )
    )
    by_id = {product.id: product for product in products}
    # No stock check here: the saga's inventory step is the one authority on stock.
    lines = [OrderLine(p, by_id[p].name, by_id[p].price, q) for p, q in wanted]
    order = OrderRow(
        user_id=user.id,
        user_name=user.name,
        user_email=user.email,
        status=OrderStatus.PENDING.value,
        total=order_total(lines),
        placed_by=caller.idempotency_scope,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        lines=[_line_row(line) for line in lines],
    )
    session.add(order)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        earlier = await _by_key(session, caller, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return _replay(earlier, fingerprint)
    session.add(
        SagaRow(
            order_id=order.id,
            phase=Phase.FORWARD.value,
            position=0,
            card_number=new.card_number(),
        )
    )
    session.add(SagaStepRow(order_id=order.id, step="order", event="created"))
    await record_event(session, _created_fact(order, lines))
    await session.commit()
    return Placed(order, replayed=False)


async def request_cancel(
    session: AsyncSession, client: ServiceClient, principal: Principal, order_id: int
) -> OrderRow:
    """Asks the saga to undo the order. Between steps the orchestrator compensates
    what was done; an approved order is undone from its shipment back, unless the
    parcel has already left."""
    order = await get_order(session, principal, order_id)
    # The saga moves on while we decide. Each write is conditional on the state we
    # read (a plain read-then-write lost a cancel that raced the last step); when
    # the state moved on, we read it again and decide again.
    for _ in range(CANCEL_ATTEMPTS):
        query = select(SagaRow).where(SagaRow.order_id == order_id)
        row = await session.scalar(query.execution_options(populate_existing=True))
        if row is None:
            raise Conflict("Order has no saga")
        state = state_of(row)
        if state.outcome == Outcome.CANCELLED:
            return order  # asked twice: same answer
        if await _cancel_from(session, client, order_id, state):
            session.add(SagaStepRow(order_id=order_id, step="order", event="cancel_requested"))
            await session.commit()
            return order
        await session.rollback()
    raise Conflict("Order changed meanwhile; try again")


async def _cancel_from(
    session: AsyncSession, client: ServiceClient, order_id: int, state: saga.SagaState
) -> bool:
    """Writes the cancellation if the saga is still in `state`; False if it moved on."""
    if state.phase == Phase.FORWARD:
        # The orchestrator sees the flag before its next step, or when it finishes.
        flagged = await session.execute(
            update(SagaRow)
            .where(SagaRow.order_id == order_id, SagaRow.phase == Phase.FORWARD.value)
            .values(cancel_requested=True)
        )
        return bool(flagged.rowcount == 1)  # type: ignore[attr-defined]
    if state.finished and state.outcome == Outcome.APPROVED:
        if await peers.shipment_has_left(client, order_id):
            raise Conflict("Order already shipped")
        try:
            new = saga.cancel(state, "Cancelled by request")
        except CannotCancel as exc:
            raise Conflict(str(exc)) from None
        flipped = await session.execute(
            update(SagaRow)
            .where(
                SagaRow.order_id == order_id,
                SagaRow.phase == Phase.DONE.value,
                SagaRow.outcome == Outcome.APPROVED.value,
            )
            .values(
                phase=new.phase.value, position=new.position, outcome=new.outcome, reason=new.reason
            )
        )
        return bool(flipped.rowcount == 1)  # type: ignore[attr-defined]
    raise Conflict(f"Order is already {state.outcome or 'being rejected'}")


async def saga_timeline(
    session: AsyncSession, order_id: int
) -> tuple[SagaRow | None, list[SagaStepRow]]:
    row = await session.get(SagaRow, order_id)
    steps = await session.scalars(
        select(SagaStepRow).where(SagaStepRow.order_id == order_id).order_by(SagaStepRow.id)
    )
    return row, list(steps)


async def unfinished_sagas(session: AsyncSession, older_than: float = 0) -> list[SagaRow]:
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
    query = (
        select(SagaRow)
        .where(SagaRow.phase != Phase.DONE.value, SagaRow.updated_at <= cutoff)
        .order_by(SagaRow.order_id)
    )
    return list(await session.scalars(query))


def _created_fact(order: OrderRow, lines: list[OrderLine]) -> OrderCreated:
    first = lines[0]
    return OrderCreated(
        id=order.id,
        user_id=order.user_id,
        user_name=order.user_name,
        user_email=order.user_email,
        product_id=first.product_id,
        product_name=first.product_name,
        unit_price=first.unit_price,
        quantity=first.quantity,
        total=order.total,
        status=order.status,
        created_at=order.created_at,
        items=[
            OrderItem(
                product_id=line.product_id,
                product_name=line.product_name,
                unit_price=line.unit_price,
                quantity=line.quantity,
            )
            for line in lines
        ],
    )


async def list_orders(session: AsyncSession, principal: Principal, page: Page) -> list[OrderRow]:
    query = select(OrderRow).order_by(OrderRow.id.desc()).limit(page.limit).offset(page.offset)
    if not principal.is_admin:
        query = query.where(OrderRow.user_id == principal.user_id)
    return list(await session.scalars(query))


async def get_order(session: AsyncSession, principal: Principal, order_id: int) -> OrderRow:
    order = await session.get(OrderRow, order_id) if 1 <= order_id <= MAX_ID else None
    # Someone else's order answers exactly like a missing one: ids reveal nothing.
    if order is None or not caller_of(principal).may_act_for(order.user_id):
        raise NotFound("Order not found")
    return order


def _customer(caller: Caller, requested_user_id: int | None) -> int:
    try:
        return customer_for(caller, requested_user_id)
    except UserIdRequired:
        raise ApiError(422, "user_id is required") from None
    except CannotOrderForAnotherUser:
        raise Forbidden("Cannot order for another user") from None


async def _by_key(session: AsyncSession, caller: Caller, key: str) -> OrderRow | None:
    query = select(OrderRow).where(
        OrderRow.placed_by == caller.idempotency_scope, OrderRow.idempotency_key == key
    )
    return await session.scalar(query)


def _replay(earlier: OrderRow, fingerprint: str) -> Placed:
    if earlier.request_hash != fingerprint:
        raise ApiError(422, "Idempotency-Key reused with a different request")
    return Placed(earlier, replayed=True)


def _line_row(line: OrderLine) -> OrderLineRow:
    return OrderLineRow(
        product_id=line.product_id,
        product_name=line.product_name,
        unit_price=line.unit_price,
        quantity=line.quantity,
        line_total=line.line_total,
    )
