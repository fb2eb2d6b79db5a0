"""Integration tests run each service against SQLite and the real PostgreSQL."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from tests.support.servers import mariadb_database, postgres_database

DatabaseFactory = Callable[[str], AbstractAsyncContextManager[str]]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def databases(backend: str, tmp_path: Path) -> AsyncIterator[DatabaseFactory]:
    """`async with databases("orders") as url:` gives a fresh database on the backend."""

    @asynccontextmanager
    async def sqlite_database(service: str) -> AsyncIterator[str]:
        yield f"sqlite:///{tmp_path / 'data' / f'{service}.db'}"

    factory = {
        "sqlite": sqlite_database,
        "postgres": postgres_database,
        "mariadb": mariadb_database,
    }
    async with AsyncExitStack():
        yield factory[backend]
