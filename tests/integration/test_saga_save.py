"""A forward save of the saga writes its state and its log entries together or not
at all, on every engine (on PostgreSQL it is one statement; elsewhere a
transaction): a replica that lost its lease, or a save that meets a pending cancel,
leaves no log entry behind."""

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import bindparam, select

from microshop.chassis.data import Database, Query, open_database, utc_now
from microshop.chassis.migrations import upgrade_to_head
from microshop.services.orders import saga_store
from microshop.services.orders.models import saga_steps
from microshop.services.orders.saga import Phase
from microshop.services.orders.saga_queries import FLAG_CANCEL, SAGA, SAVED_AND_LOGGED
from microshop.services.orders.saga_store import (
    LeaseLost,
    Progress,
    SagaStore,
    write_first_state,
)
from microshop.services.orders.steps import ORDER_SAGA, SagaOrder
from microshop.services.orders.store import NEW_ORDER
from tests.integration.conftest import DatabaseFactory

MIGRATIONS = Path(saga_store.__file__).parent / "migrations"
LOG = Query(
    select(saga_steps.c.step, saga_steps.c.event)
    .where(saga_steps.c.order_id == bindparam("order_id"))
    .order_by(saga_steps.c.id)
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def db(databases: DatabaseFactory) -> AsyncIterator[Database]:
    async with databases("orders") as url:
        database = await open_database(url)
        try:
            await upgrade_to_head(database, MIGRATIONS)
            yield database
        finally:
            await database.close()


async def a_started_saga(db: Database, store: SagaStore) -> Progress:
    now = utc_now()
    async with db.transaction() as tx:
        order_id = await tx.insert(
            NEW_ORDER,
            user_id=1,
            user_name="Ada",
            user_email="ada@example.com",
            status="pending",
            total=Decimal("10.00"),
            placed_by=1,
            idempotency_key=None,
            request_hash="h",
            created_at=now,
        )
        assert order_id is not None
        order = SagaOrder(order_id, 1, "Ada", "ada@example.com", Decimal("10.00"), [(1, 1)], None)
        return await write_first_state(tx, order, store.owner, store.lease, now)


async def log_of(db: Database, order_id: int) -> list[tuple[str, str]]:
    return [(row["step"], row["event"]) for row in await db.fetch_all(LOG, order_id=order_id)]


async def test_a_forward_save_writes_the_state_and_logs_the_step_and_the_next_one(
    db: Database,
) -> None:
    store = SagaStore(db, "replica-a")
    progress = await a_started_saga(db, store)
    moved = ORDER_SAGA.step_succeeded(progress.state)

    saved = await store.save(progress, moved, "payment", "succeeded", "charged 10.00")

    assert saved.state == moved and saved.announced == ("inventory", "started")
    row = await db.fetch_one(SAGA, order_id=progress.order.order_id)
    assert row is not None
    assert (row["phase"], row["position"]) == (Phase.FORWARD.value, moved.position)
    assert await log_of(db, progress.order.order_id) == [
        ("order", "created"),
        ("payment", "started"),
        ("payment", "succeeded"),
        ("inventory", "started"),
    ]


async def test_a_replica_that_lost_its_lease_writes_neither_state_nor_log(db: Database) -> None:
    store = SagaStore(db, "replica-a", lease=timedelta(seconds=30))
    progress = await a_started_saga(db, store)
    before = await log_of(db, progress.order.order_id)

    with pytest.raises(LeaseLost):
        await SagaStore(db, "replica-b").save(
            progress, ORDER_SAGA.step_succeeded(progress.state), "payment", "succeeded"
        )

    row = await db.fetch_one(SAGA, order_id=progress.order.order_id)
    assert row is not None and row["position"] == progress.state.position
    assert await log_of(db, progress.order.order_id) == before


async def test_a_forward_save_that_meets_a_pending_cancel_compensates_instead(
    db: Database,
) -> None:
    store = SagaStore(db, "replica-a")
    progress = await a_started_saga(db, store)
    async with db.transaction() as tx:
        assert await tx.execute(FLAG_CANCEL, order_id=progress.order.order_id)

    saved = await store.save(
        progress, ORDER_SAGA.step_succeeded(progress.state), "payment", "succeeded"
    )

    assert saved.state.phase == Phase.COMPENSATING
    row = await db.fetch_one(SAGA, order_id=progress.order.order_id)
    assert row is not None and row["phase"] == Phase.COMPENSATING.value
    assert not row["cancel_requested"]
    log = await log_of(db, progress.order.order_id)
    assert log[-2:] == [("payment", "succeeded"), ("payment", "compensating")]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
async def test_on_postgresql_the_forward_save_is_one_statement_fenced_by_the_lease(
    db: Database,
) -> None:
    """The statement `save` sends on PostgreSQL, on its own: the tests above pass
    by either path, this one only if the CTE itself writes both or neither."""
    store = SagaStore(db, "replica-a")
    progress = await a_started_saga(db, store)
    order_id, before = progress.order.order_id, await log_of(db, progress.order.order_id)
    params = {
        "order_id": order_id,
        "phase": Phase.FORWARD.value,
        "position": 1,
        "outcome": None,
        "reason": None,
        "now": utc_now(),
        "lease_until": utc_now() + store.lease,
        "steps": ["payment", "inventory"],
        "events": ["succeeded", "started"],
        "details": ["charged 10.00", None],
    }

    assert await db.fetch_value(SAVED_AND_LOGGED, **params, owner="replica-b") == 0
    assert await log_of(db, order_id) == before

    assert await db.fetch_value(SAVED_AND_LOGGED, **params, owner="replica-a") == 1
    row = await db.fetch_one(SAGA, order_id=order_id)
    assert row is not None and row["position"] == 1
    assert await log_of(db, order_id) == [
        *before,
        ("payment", "succeeded"),
        ("inventory", "started"),
    ]
