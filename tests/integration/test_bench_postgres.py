"""`--db postgres`: the run's databases on the real PostgreSQL, and always dropped."""

import asyncio
import shutil
import subprocess

import asyncpg
import pytest

from microshop.bench.postgres import SERVER, bench_databases, database_names, service_env
from microshop.bench.shared_servers import BACKENDS, postgres_backends
from tests.support.waiting import wait_until


async def _existing(tag: str) -> set[str]:
    connection = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"microshop_bench_%_{tag}"
        )
    finally:
        await connection.close()
    return {row["datname"] for row in rows}


async def _sessions(database: str) -> int:
    connection = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database
        )
    finally:
        await connection.close()
    return int(count)


async def _backend_seen(database: str) -> dict[int, str]:
    connection = await asyncpg.connect(f"{SERVER}/{database}")
    try:
        return postgres_backends([database])
    finally:
        await connection.close()


@pytest.mark.postgres
def test_the_databases_exist_during_the_run_and_are_dropped_after_it() -> None:
    with bench_databases("feedbeef") as databases:
        assert asyncio.run(_existing("feedbeef")) == set(database_names("feedbeef").values())
        assert databases.env == service_env(database_names("feedbeef"))
        # a connection to one of them is a backend that the run is charged for
        assert list(asyncio.run(_backend_seen(databases.names["orders"])).values()) == [BACKENDS]
    assert asyncio.run(_existing("feedbeef")) == set()


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_the_databases_are_dropped_when_the_run_fails_even_with_a_session_open() -> None:
    with pytest.raises(RuntimeError, match="the run failed"), bench_databases("deadbeef"):
        # a service that never closed its pool
        session = subprocess.Popen(
            [
                "psql",
                "-X",
                "-q",
                f"{SERVER}/microshop_bench_orders_deadbeef",
                "-c",
                "SELECT pg_sleep(60)",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            lambda: asyncio.run(_sessions("microshop_bench_orders_deadbeef")) > 0,
            timeout=10,
            message="the psql session never connected",
        )
        raise RuntimeError("the run failed")
    assert asyncio.run(_existing("deadbeef")) == set()
    assert session.wait(timeout=10) != 0, "DROP ... WITH (FORCE) ended the session"
