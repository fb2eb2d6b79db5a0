"""Order use cases. They take the database port and the service client and return
domain objects; the API shapes them. Users and products are read through their
services' HTTP APIs, never their databases."""

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from microshop.chassis.auth import Principal
from microshop.chassis.client import ServiceClient
from microshop.chassis.data import Database, Row, Transaction, utc_now
from microshop.chassis.outbox import record_event
from microshop.chassis.paging import Page
from microshop.contracts.errors import Conflict, IdempotencyKeyReused
from microshop.contracts.events import OrderCreated, OrderItem
from microshop.services.orders import peers, store
from microshop.services.orders.domain import (
    Caller,
    Customer,
    Order,
    OrderLine,
    OrderNotFound,
    OrderStatus,
    customer_for,
    order_total,
    request_fingerprint,
)
from microshop.services.orders.saga import Outcome, Phase, SagaState
from microshop.services.orders.saga_queries import FLAG_CANCEL, LOG, UNDO_APPROVED, UNFINISHED
from microshop.services.orders.saga_store import Progress, state_of, write_first_state
from microshop.services.orders.schemas import OrderCreate
from microshop.services.orders.steps import ORDER_SAGA, SagaOrder


@dataclass(frozen=True, slots=True)
class Placed:
    order: Order
    # True when an Idempotency-Key retry found the order placed by the first attempt.
    replayed: bool
    # The saga's first state, for the orchestrator to run from (None on a replay).
    progress: Progress | None


@dataclass(frozen=True, slots=True)
class SagaOwner:
    """Who drives the sagas this process starts, and for how long a lease holds."""

    owner: str
    lease: timedelta


@dataclass(frozen=True, slots=True)
class Timeline:
    phase: str
    outcome: str | None
    steps: list[Row]


# A cancel re-reads the saga this many times when it keeps moving meanwhile.
CANCEL_ATTEMPTS = 3


def caller_of(principal: Principal) -> Caller:
    return Caller(user_id=principal.user_id, is_admin=principal.is_admin)


async def place_order(
    db: Database,
    client: ServiceClient,
    principal: Principal,
    new: OrderCreate,
    saga: SagaOwner,
    idempotency_key: str | None = None,
) -> Placed:
    """Stores the order `pending`, its saga (leased to this process, first step
    announced) and its `order.created` event in one transaction; the caller hands
    the saga to the orchestrator. A retry with the same key finds its order by the
    unique key: the insert comes first, the read only when it was skipped."""
    caller = caller_of(principal)
    customer_id = customer_for(caller, new.user_id)
    wanted = new.wanted()
    fingerprint = request_fingerprint(customer_id, wanted)
    customer, products = await asyncio.gather(
        _customer(client, principal, customer_id),
        asyncio.gather(
            *(peers.fetch_product(client, p) for p in dict.fromkeys(p for p, _ in wanted))
        ),
    )
    by_id = {product.id: product for product in products}
    # No stock check here: the saga's inventory step is the one authority on stock.
    lines = tuple(OrderLine(p, by_id[p].name, by_id[p].price, q) for p, q in wanted)
    total = order_total(lines)
    now = utc_now()
    async with db.transaction() as tx:
        order_id = await tx.insert(
            store.NEW_ORDER,
            user_id=customer.id,
            user_name=customer.name,
            user_email=customer.email,
            status=OrderStatus.PENDING.value,
            total=total,
            placed_by=caller.idempotency_scope,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
            created_at=now,
        )
        if order_id is None:
            assert idempotency_key is not None  # only a keyed insert can collide
            return Placed(await _replay(tx, caller, idempotency_key, fingerprint), True, None)
        await tx.execute_many(
            store.NEW_LINE,
            [
                {
                    "order_id": order_id,
                    "product_id": line.product_id,
                    "product_name": line.product_name,
                    "unit_price": line.unit_price,
                    "quantity": line.quantity,
                    "line_total": line.line_total,
                }
                for line in lines
            ],
        )
        order = Order(order_id, customer, OrderStatus.PENDING, total, lines, now, None, fingerprint)
        progress = await write_first_state(
            tx, _saga_order(order, new.card_number()), saga.owner, saga.lease, now
        )
        await record_event(tx, _created_fact(order))
    return Placed(order, replayed=False, progress=progress)


async def _customer(client: ServiceClient, principal: Principal, customer_id: int) -> Customer:
    """Who the order is for. A customer's own token already says (names never change
    through the API); only an admin ordering for someone, or open mode, asks users."""
    if principal.user_id == customer_id and principal.name and principal.email:
        return Customer(customer_id, principal.name, principal.email)
    user = await peers.fetch_user(client, customer_id, principal.token)
    return Customer(user.id, user.name, user.email)


async def _replay(tx: Transaction, caller: Caller, key: str, fingerprint: str) -> Order:
    row = await tx.fetch_one(store.BY_KEY, placed_by=caller.idempotency_scope, key=key)
    assert row is not None
    earlier = await _with_lines(tx, row)
    if earlier.request_hash != fingerprint:
        raise IdempotencyKeyReused
    return earlier


def _saga_order(order: Order, card_number: str | None) -> SagaOrder:
    return SagaOrder(
        order_id=order.id,
        user_id=order.customer.id,
        user_name=order.customer.name,
        user_email=order.customer.email,
        total=order.total,
        items=[(line.product_id, line.quantity) for line in order.lines],
        card_number=card_number,
    )


def _created_fact(order: Order) -> OrderCreated:
    first = order.lines[0]
    return OrderCreated(
        id=order.id,
        user_id=order.customer.id,
        user_name=order.customer.name,
        user_email=order.customer.email,
        product_id=first.product_id,
        product_name=first.product_name,
        unit_price=first.unit_price,
        quantity=first.quantity,
        total=order.total,
        status=order.status.value,
        created_at=order.created_at,
        items=[
            OrderItem(
                product_id=line.product_id,
                product_name=line.product_name,
                unit_price=line.unit_price,
                quantity=line.quantity,
            )
            for line in order.lines
        ],
    )


async def request_cancel(
    db: Database, client: ServiceClient, principal: Principal, order_id: int
) -> None:
    """Asks the saga to undo the order. Between steps the orchestrator compensates
    what was done; an approved order is undone from its shipment back, unless the
    parcel has already left."""
    await get_order(db, principal, order_id)
    # The saga moves on while we decide. Each write is conditional on the state we
    # read (a plain read-then-write lost a cancel that raced the last step); when
    # the state moved on, we read it again and decide again.
    for _ in range(CANCEL_ATTEMPTS):
        row = await db.fetch_one(store.SAGA, order_id=order_id)
        if row is None:
            raise Conflict("Order has no saga")
        state = state_of(row)
        if state.outcome == Outcome.CANCELLED:
            return  # asked twice: same answer
        if await _cancel_from(db, client, order_id, state):
            return
    raise Conflict("Order changed meanwhile; try again")


async def _cancel_from(
    db: Database, client: ServiceClient, order_id: int, state: SagaState
) -> bool:
    """Writes the cancellation if the saga is still in `state`; False if it moved on."""
    if state.phase == Phase.FORWARD:
        # The orchestrator sees the flag at its next save, or before its next step.
        async with db.transaction() as tx:
            flagged = await tx.execute(FLAG_CANCEL, order_id=order_id)
            if flagged:
                await _log_cancel(tx, order_id)
        return bool(flagged)
    if state.finished and state.outcome == Outcome.APPROVED:
        if await peers.shipment_has_left(client, order_id):
            raise Conflict("Order already shipped")
        new = ORDER_SAGA.cancel(state, "Cancelled by request")
        async with db.transaction() as tx:
            flipped = await tx.execute(
                UNDO_APPROVED,
                order_id=order_id,
                phase=new.phase.value,
                position=new.position,
                outcome=new.outcome.value if new.outcome else None,
                reason=new.reason,
            )
            if flipped:
                await _log_cancel(tx, order_id)
        return bool(flipped)
    raise Conflict(f"Order is already {state.outcome or 'being rejected'}")


async def _log_cancel(tx: Transaction, order_id: int) -> None:
    await tx.execute(
        LOG, order_id=order_id, step="order", event="cancel_requested", detail=None, at=utc_now()
    )


async def saga_timeline(db: Database, order_id: int) -> Timeline | None:
    row = await db.fetch_one(store.SAGA, order_id=order_id)
    if row is None:
        return None
    steps = await db.fetch_all(store.SAGA_LOG, order_id=order_id)
    return Timeline(row["phase"], row["outcome"], steps)


async def unfinished_sagas(db: Database, older_than: float = 0) -> list[Row]:
    return await db.fetch_all(UNFINISHED, cutoff=utc_now() - timedelta(seconds=older_than))


async def list_orders(db: Database, principal: Principal, page: Page) -> list[Order]:
    rows = await store.LISTING.fetch(db, page, user_id=principal.owner_filter)
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    lines: dict[int, list[OrderLine]] = {order_id: [] for order_id in ids}
    for line in await db.fetch_all(store.lines_of_orders(len(ids)), **store.ids_params(ids)):
        lines[line["order_id"]].append(store.line_from(line))
    return [store.order_from(row, lines[row["id"]]) for row in rows]


async def get_order(db: Database, principal: Principal, order_id: int) -> Order:
    row = await db.fetch_one(store.BY_ID, id=order_id)
    # Someone else's order answers exactly like a missing one: ids reveal nothing.
    if row is None or not caller_of(principal).may_act_for(row["user_id"]):
        raise OrderNotFound
    return await _with_lines(db, row)


async def _with_lines(source: Database | Transaction, row: Row) -> Order:
    lines = await source.fetch_all(store.LINES, order_id=row["id"])
    return store.order_from(row, [store.line_from(line) for line in lines])
