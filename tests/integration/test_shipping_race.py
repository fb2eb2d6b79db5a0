"""A cancel and a create of one order's shipment, interleaved on PostgreSQL exactly
where they once went wrong: the create commits after the cancel's UPDATE has
matched nothing and before the cancel reads what is there.

Only PostgreSQL: on SQLite one writer runs at a time, and on MariaDB the cancel's
UPDATE locks the gap the create would insert into, so neither can interleave so."""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from microshop.chassis.data import Database, Query, Row, Transaction, open_database
from microshop.services.shipping import service
from microshop.services.shipping.domain import ShipmentStatus
from microshop.services.shipping.main import ShippingSettings, build_app
from microshop.services.shipping.schemas import ShipmentCreate
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import serving
from tests.support.db import fetch_rows


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class _PausingTransaction(Transaction):
    """A real transaction that awaits `between` once, right after its first write."""

    def __init__(self, inner: Transaction, between: Callable[[], Awaitable[None]]) -> None:
        super().__init__(inner.db)
        self.inner, self.between, self.paused = inner, between, False

    async def execute(self, query: Query, /, **params: Any) -> int:
        count = await self.inner.execute(query, **params)
        if not self.paused:
            self.paused = True
            await self.between()
        return count

    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]], /) -> None:
        await self.inner.execute_many(query, rows)

    async def fetch_one(self, query: Query, /, **params: Any) -> Row | None:
        return await self.inner.fetch_one(query, **params)

    async def fetch_all(self, query: Query, /, **params: Any) -> list[Row]:
        return await self.inner.fetch_all(query, **params)

    async def insert(self, query: Query, /, **params: Any) -> int | None:
        return await self.inner.insert(query, **params)

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        return self.inner.savepoint()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.inner.after_commit(callback)


class _CommitsBetween(Database):
    """The shipping database, whose transactions pause after their first write."""

    def __init__(self, inner: Database, between: Callable[[], Awaitable[None]]) -> None:
        self.inner, self.between = inner, between
        self.dialect, self.url = inner.dialect, inner.url

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield _PausingTransaction(tx, self.between)

    async def fetch_one(self, query: Query, /, **params: Any) -> Row | None:
        return await self.inner.fetch_one(query, **params)

    async def fetch_all(self, query: Query, /, **params: Any) -> list[Row]:
        return await self.inner.fetch_all(query, **params)

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()


async def test_a_create_committed_between_a_cancels_update_and_its_read_is_cancelled(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    async with databases("shipping") as url:
        settings = ShippingSettings(database_url=url, data_dir=tmp_path, open_mode=True)
        async with serving(build_app(settings)):  # migrates the database
            pass
        db = await open_database(url)
        try:

            async def create_and_commit() -> None:
                await service.create_shipment(db, ShipmentCreate(order_id=7), refuse_all=False)

            cancelled = await service.cancel_shipment(_CommitsBetween(db, create_and_commit), 7)
        finally:
            await db.close()
        rows = await fetch_rows(url, "SELECT order_id, status FROM shipments")
    assert cancelled.status == ShipmentStatus.CANCELLED
    assert rows == [{"order_id": 7, "status": "cancelled"}]
