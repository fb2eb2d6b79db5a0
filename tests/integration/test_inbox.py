"""The idempotent consumer on a real database: a batch commits as one transaction,
an event that fails is undone alone, and a duplicate changes nothing."""

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from microshop.chassis.bus import Delivery
from microshop.chassis.data import Database, open_database
from microshop.chassis.event_tables import metadata
from microshop.chassis.inbox import BatchContext, EventContext, Inbox, UndecodableEvent
from microshop.contracts.events import UserRegistered
from tests.integration.conftest import DatabaseFactory


@pytest.fixture(
    params=[
        "sqlite",
        "postgres",
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """The inbox's backend (overrides conftest's to add MariaDB: the batch's ids go
    in as one multi-row INSERT there)."""
    return str(request.param)


@pytest.fixture
async def db(databases: DatabaseFactory) -> AsyncIterator[Database]:
    async with databases("inbox") as url:
        database = await open_database(url)
        if database.dialect == "sqlite":
            metadata.create_all(create_engine(database.migration_url))
        else:
            engine = create_async_engine(database.migration_url)
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            await engine.dispose()
        yield database
        await database.close()


def delivery(user_id: int, event_id: str | None = None) -> Delivery:
    fact = UserRegistered(id=user_id, name="Ada", email="ada@example.com", role="customer")
    envelope = fact.envelope()
    if event_id:
        envelope = envelope.model_copy(update={"id": uuid.UUID(event_id)})
    return Delivery(
        "probe", envelope.model_dump_json().encode(), fact.TYPE, str(envelope.id), 1, None
    )


async def test_a_failing_event_is_undone_alone_and_its_neighbours_effects_happen_once(
    db: Database,
) -> None:
    effects: list[int] = []

    async def remember(ctx: EventContext, event: UserRegistered) -> None:
        effects.append(event.id)  # an effect outside the database, like an e-mail sent
        if event.id == 3:
            raise OSError("the mail server is away")

    inbox = Inbox("probe", db, app=None, handlers={UserRegistered: remember})
    outcomes = await inbox.handle_batch([delivery(n) for n in (1, 2, 3, 4)])
    assert [type(o).__name__ if o else None for o in outcomes] == [None, None, "OSError", None]
    assert effects == [1, 2, 3, 4]  # nobody was applied twice


async def test_a_duplicate_in_the_same_or_a_later_batch_changes_nothing(db: Database) -> None:
    effects: list[int] = []

    async def remember(ctx: EventContext, event: UserRegistered) -> None:
        effects.append(event.id)

    inbox = Inbox("probe", db, app=None, handlers={UserRegistered: remember})
    same = str(uuid.uuid4())
    assert await inbox.handle_batch([delivery(1, same), delivery(1, same)]) == [None, None]
    assert await inbox.handle_batch([delivery(1, same)]) == [None]
    assert effects == [1]
    assert inbox.duplicates == 2


async def test_a_body_that_is_not_an_event_is_a_failed_attempt_not_a_crash(db: Database) -> None:
    async def ignore(ctx: EventContext, event: UserRegistered) -> None:
        raise AssertionError("never reached")

    inbox = Inbox("probe", db, app=None, handlers={UserRegistered: ignore})
    junk = Delivery("probe", b"not json at all", "user.registered", "m-1", 1, None)
    outcomes = await inbox.handle_batch([junk])
    assert isinstance(outcomes[0], UndecodableEvent)


async def test_a_replayable_batch_is_applied_together_and_after_a_failure_again_each_alone(
    db: Database,
) -> None:
    applied: list[list[int]] = []

    def fold(ids: list[int]) -> None:
        applied.append(ids)  # its only effect is in the transaction, like a read model's
        if 3 in ids:
            raise ValueError("a fact this read model cannot fold")

    async def fold_one(ctx: EventContext, event: UserRegistered) -> None:
        fold([event.id])

    async def fold_all(batch: BatchContext) -> None:
        fold([event.id for _, event in batch.events])

    inbox = Inbox(
        "probe", db, app=None, handlers={UserRegistered: fold_one}, apply_together=fold_all
    )
    batch = [delivery(n) for n in (1, 2, 3, 4)]
    outcomes = await inbox.handle_batch(batch)
    assert [type(o).__name__ if o else None for o in outcomes] == [None, None, "ValueError", None]
    # Together, in one call without a savepoint each: 3 failed and the rollback undid
    # it all; then each alone in its savepoint.
    assert applied == [[1, 2, 3, 4], [1], [2], [3], [4]]
    # The database kept 1, 2 and 4 once: redelivered, they are duplicates. Recording
    # the batch's ids together fails on them before anything is applied; then each
    # alone: 3 fails again, the rest are skipped.
    outcomes = await inbox.handle_batch(batch)
    assert [type(o).__name__ if o else None for o in outcomes] == [None, None, "ValueError", None]
    assert applied[5:] == [[3]]
    assert inbox.duplicates == 3

    good = [delivery(n) for n in (5, 6, 7)]
    assert await inbox.handle_batch(good) == [None, None, None]
    assert applied[6:] == [[5, 6, 7]]


async def test_an_event_a_batch_could_not_apply_fails_alone_and_is_not_remembered(
    db: Database,
) -> None:
    applied: list[int] = []

    async def apply_one(ctx: EventContext, event: UserRegistered) -> None:
        applied.append(event.id)

    async def apply_all(batch: BatchContext) -> list[Exception | None]:
        errors: list[Exception | None] = []
        for _, event in batch.events:
            if event.id == 2:  # like an e-mail the server refused: nothing of it is left
                errors.append(OSError("the mail server refused it"))
            else:
                applied.append(event.id)
                errors.append(None)
        return errors

    inbox = Inbox(
        "probe", db, app=None, handlers={UserRegistered: apply_one}, apply_together=apply_all
    )
    batch = [delivery(n) for n in (1, 2, 3)]
    outcomes = await inbox.handle_batch(batch)
    assert [type(o).__name__ if o else None for o in outcomes] == [None, "OSError", None]
    assert applied == [1, 3]
    # Redelivered, 2 is new to the inbox and applied now; 1 is a duplicate.
    assert await inbox.handle_batch([batch[1]]) == [None]
    assert await inbox.handle_batch([batch[0]]) == [None]
    assert applied == [1, 3, 2]
    assert inbox.duplicates == 1
