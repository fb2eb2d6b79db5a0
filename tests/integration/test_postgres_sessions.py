"""A service instance that vanishes in the middle of a transaction (its host cut
off) must not keep its row locks: the server ends the stalled transaction, and
the other instances go on."""

import asyncio
import time

import pytest

from microshop.chassis.data.postgres import IDLE_IN_TRANSACTION_MS, PostgresDatabase
from tests.support.servers import postgres_database

pytestmark = pytest.mark.postgres


async def test_a_transaction_left_open_releases_its_locks_within_the_timeout() -> None:
    async with postgres_database("sessions") as url:
        gone, alive = await PostgresDatabase.connect(url), await PostgresDatabase.connect(url)
        try:
            await alive.pool.execute("CREATE TABLE stock (id int PRIMARY KEY, left_ int)")
            await alive.pool.execute("INSERT INTO stock VALUES (1, 10)")
            stalled = await gone.pool.acquire()
            await stalled.execute("BEGIN; UPDATE stock SET left_ = left_ - 1 WHERE id = 1")
            # ... and its instance never says another word.
            began = time.monotonic()
            await asyncio.wait_for(
                alive.pool.execute("UPDATE stock SET left_ = left_ - 1 WHERE id = 1"), 15
            )
            waited = time.monotonic() - began
            assert await alive.pool.fetchval("SELECT left_ FROM stock WHERE id = 1") == 9
            assert waited < IDLE_IN_TRANSACTION_MS / 1000 + 2
            await gone.pool.release(stalled)
        finally:
            await gone.close()
            await alive.close()
