import asyncio
import sys

import aiohttp
import pytest

from microshop.runtime.errors import StartupError
from microshop.runtime.processes import ProcessSpec, SupervisedProcess
from microshop.runtime.readiness import await_ready, failure_message, first_failure_stops_all
from tests.support.asgi import free_port


def never_started(name: str = "catalog") -> SupervisedProcess:
    return SupervisedProcess(ProcessSpec(name, [sys.executable], {}), print, print)


def test_a_process_that_gave_up_reports_its_own_error_line() -> None:
    process = never_started()
    process.gave_up.set()
    process.last_error_lines.append("error: catalog: database x is unreachable: refused")
    assert failure_message(process, 90) == "catalog: database x is unreachable: refused"
    process.last_error_lines.append("Traceback (most recent call last):")
    assert failure_message(process, 90) == (
        "catalog failed to start: Traceback (most recent call last):"
    )


def test_a_process_still_trying_when_time_is_up_is_reported_as_slow() -> None:
    assert failure_message(never_started(), 90) == "catalog did not become ready within 90 s"


async def test_waiting_ends_at_once_when_the_process_gives_up() -> None:
    process = never_started()
    process.gave_up.set()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(StartupError, match="catalog failed to start"):
            await await_ready(session, process, f"http://127.0.0.1:{free_port()}/", timeout=60)
    assert not process.ready_once


async def test_the_first_failure_is_the_one_reported_and_stops_the_other_waits() -> None:
    async def fails() -> None:
        raise StartupError("users failed to start")

    async def waits_forever() -> None:
        await asyncio.Event().wait()

    with pytest.raises(StartupError, match="users failed to start"):
        await first_failure_stops_all([waits_forever(), fails()])
