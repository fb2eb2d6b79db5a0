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
