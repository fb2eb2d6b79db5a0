"""Waiting for a starting system: each process's health URL polled until it answers
200, and the first process that cannot start ends the wait for all of them.

    await first_failure_stops_all([await_ready(session, process, url), ...])
"""

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any

import aiohttp

from microshop.runtime.errors import StartupError
from microshop.runtime.health import wait_until_healthy
from microshop.runtime.processes import SupervisedProcess

# Generous for a cold start on a busy 2-core laptop (imports, migrations, seeding).
SERVICE_TIMEOUT = 90.0
# NATS and Envoy are single binaries: a minute-long start means something is wrong.
BINARY_TIMEOUT = 30.0


async def await_ready(
    session: aiohttp.ClientSession,
    process: SupervisedProcess,
    url: str,
    timeout: float = SERVICE_TIMEOUT,
) -> None:
    """Returns once `url` answers 200; StartupError if `process` gave up or took too long."""
    if await wait_until_healthy(session, url, timeout, give_up=process.gave_up.is_set):
        process.ready_once = True
        return
    raise StartupError(failure_message(process, timeout))


def failure_message(process: SupervisedProcess, timeout: float) -> str:
    line = process.last_error_line
    if process.gave_up.is_set() and line:
        # `microshop serve` reports its own startup errors as one `error: ...` line.
        return (
            line.removeprefix("error: ")
            if line.startswith("error: ")
            else f"{process.name} failed to start: {line}"
        )
    if process.gave_up.is_set():
        return f"{process.name} failed to start"
    return f"{process.name} did not become ready within {timeout:g} s"


async def first_failure_stops_all(waits: Iterable[Coroutine[Any, Any, None]]) -> None:
    try:
        async with asyncio.TaskGroup() as group:
            for wait in waits:
                group.create_task(wait)
    except* StartupError as failures:
        raise failures.exceptions[0] from None
