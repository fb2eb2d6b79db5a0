"""Order use cases. They take a session and the service client (the ports) and
return rows; the API shapes them. Users and products are read through their
services' HTTP APIs, never their databases."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.auth import Principal
from microshop.chassis.client import ServiceClient
from microshop.chassis.errors import ApiError, Forbidden, NotFound
from microshop.services.orders import peers
from microshop.services.orders.domain import (
    MAX_ID,
    Caller,
    CannotOrderForAnotherUser,
    InsufficientStock,
    OrderLine,
    OrderStatus,
    Page,
    UserIdRequired,
    check_stock,
    customer_for,
    order_total,
    request_fingerprint,
)
from microshop.services.orders.models import OrderLineRow, OrderRow
from microshop.services.orders.schemas import OrderCreate


@dataclass(frozen=True, slots=True)
class Placed:
    order: OrderRow
    # True when an Idempotency-Key retry found the order placed by the first attempt.
    replayed: bool


def caller_of(principal: Principal) -> Caller:
    return Caller(user_id=principal.user_id, is_admin=principal.is_admin)


async def place_order(
    session: AsyncSession,
    client: ServiceClient,
    principal: Principal,
    new: OrderCreate,
    idempotency_key: str | None = None,
) -> Placed:
    caller = caller_of(principal)
    customer_id = _customer(caller, new.user_id)
    fingerprint = request_fingerprint(customer_id, [(new.product_id, new.quantity)])
    # Only an optimisation: the unique constraint below is what makes retries safe.
    if idempotency_key and (earlier := await _by_key(session, caller, idempotency_key)):
        return _replay(earlier, fingerprint)
    # End the read before calling peers: no pooled connection waits on the network.
    await session.rollback()

    user = await peers.fetch_user(client, customer_id, principal.token)
    product = await peers.fetch_product(client, new.product_id, principal.token)
    try:
        check_stock(product.stock, new.quantity)
    except InsufficientStock as exc:
        raise ApiError(409, "Insufficient stock", available=exc.available) from None

    line = OrderLine(product.id, product.name, product.price, new.quantity)
    order = OrderRow(
        user_id=user.id,
        user_name=user.name,
        user_email=user.email,
        status=OrderStatus.PENDING.value,
        total=order_total([line]),
        placed_by=caller.idempotency_scope,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        lines=[_line_row(line)],
    )
    session.add(order)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        earlier = await _by_key(session, caller, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return _replay(earlier, fingerprint)
    return Placed(order, replayed=False)


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
