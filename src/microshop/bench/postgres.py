"""`--db postgres`: every service on the machine's PostgreSQL, each in a database of its
own made for this run (`microshop_bench_<service>_<8 hex>`) and dropped afterwards,
also when the run fails. The server is reached as postgres@127.0.0.1:5432 with trust
authentication on loopback, as this machine's cluster is set up."""

import asyncio
import contextlib
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg

SERVICES = (
    "users",
    "catalog",
    "orders",
    "payments",
    "shipping",
    "notifications",
    "order_history",
)
SERVER = "postgresql://postgres@127.0.0.1:5432"
CONNECT_TIMEOUT_S = 10.0


class PostgresFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class BenchDatabases:
    names: dict[str, str]  # service -> database

    @property
    def env(self) -> dict[str, str]:
        return service_env(self.names)


def database_names(tag: str) -> dict[str, str]:
    """service -> its database for the run tagged `tag`."""
    return {service: f"microshop_bench_{service}_{tag}" for service in SERVICES}


def service_env(databases: dict[str, str]) -> dict[str, str]:
    """The settings that point each service at its database."""
    return {
        f"MICROSHOP_{service.upper()}_DATABASE_URL": f"{SERVER}/{database}"
        for service, database in databases.items()
    }


def _quoted(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a bench database name: {name!r}")
    return f'"{name}"'


async def _each(statements: Iterable[str]) -> None:
    try:
        connection = await asyncpg.connect(f"{SERVER}/postgres", timeout=CONNECT_TIMEOUT_S)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise PostgresFailed(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}") from exc
    try:
        for statement in statements:
            await connection.execute(statement)
    except asyncpg.PostgresError as exc:
        raise PostgresFailed(f"{statement}: {exc}") from exc
    finally:
        await connection.close()


@contextmanager
def bench_databases(tag: str | None = None) -> Iterator[BenchDatabases]:
    """Fresh databases for every service, dropped on the way out (WITH (FORCE): a
    connection left over does not keep one)."""
    databases = database_names(tag or secrets.token_hex(4))
    drops = [f"DROP DATABASE IF EXISTS {_quoted(db)} WITH (FORCE)" for db in databases.values()]
    try:
        asyncio.run(_each(f"CREATE DATABASE {_quoted(db)}" for db in databases.values()))
        yield BenchDatabases(databases)
    except BaseException:
        # The failure that got us here is the one to report, not a failed clean-up.
        with contextlib.suppress(PostgresFailed):
            asyncio.run(_each(drops))
        raise
    asyncio.run(_each(drops))
