"""A service instance that vanishes in the middle of a transaction (its host cut
off) must not stop the others: a statement waiting for its rows gives up after the
lock timeout, and the server ends the stalled transaction, freeing them."""

import asyncio
import time
from datetime import timedelta

import asyncpg
import pytest

from microshop.chassis.data.postgres import (
    IDLE_IN_TRANSACTION_MS,
    LOCK_TIMEOUT_MS,
    PostgresDatabase,
)
from tests.support.servers import postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]
DECREASE = "UPDATE stock SET left_ = left_ - 1 WHERE id = 1"


async def test_rows_held_by_a_stalled_transaction_are_waited_for_briefly_then_freed() -> None:
    async with postgres_database("sessions") as url:
        gone, alive = await PostgresDatabase.connect(url), await PostgresDatabase.connect(url)
        try:
            await alive.pool.execute("CREATE TABLE stock (id int PRIMARY KEY, left_ int)")
            await alive.pool.execute("INSERT INTO stock VALUES (1, 10)")
            stalled = await gone.pool.acquire()
            began = time.monotonic()
            await stalled.execute(f"BEGIN; {DECREASE}")
            # ... and its instance never says another word.
            with pytest.raises(asyncpg.LockNotAvailableError):
                await asyncio.wait_for(alive.pool.execute(DECREASE), 15)
            assert time.monotonic() - began < LOCK_TIMEOUT_MS / 1000 + 2
            await asyncio.sleep(max(0.0, began + IDLE_IN_TRANSACTION_MS / 1000 - time.monotonic()))
            await asyncio.wait_for(alive.pool.execute(DECREASE), 15)
            assert await alive.pool.fetchval("SELECT left_ FROM stock WHERE id = 1") == 9
            assert time.monotonic() - began < IDLE_IN_TRANSACTION_MS / 1000 + 5
        finally:
            # The vanished instance never gives its connection back (and the server
            # has ended that session): its pool is dropped, not closed in order.
            gone.pool.terminate()
            await alive.close()


async def test_a_connection_comes_back_to_the_pool_with_no_transaction_left_open() -> None:
    """The pool sends no reset query on release (chassis/data/postgres.py says why);
    what matters of a reset still happens: a transaction left open is rolled back, and
    the session keeps the settings it was opened with."""
    async with postgres_database("release") as url:
        db = await PostgresDatabase.connect(url, pool_size=1)
        try:
            await db.pool.execute("CREATE TABLE orders (id int PRIMARY KEY)")
            async with db.pool.acquire() as connection:
                await connection.execute("BEGIN; INSERT INTO orders VALUES (1)")
            async with db.pool.acquire() as connection:
                assert not connection.is_in_transaction()
                assert await connection.fetchval("SELECT count(*) FROM orders") == 0
                lock_timeout = "SELECT current_setting('lock_timeout')::interval"
                assert await connection.fetchval(lock_timeout) == timedelta(
                    milliseconds=LOCK_TIMEOUT_MS
                )
        finally:
            await db.close()
