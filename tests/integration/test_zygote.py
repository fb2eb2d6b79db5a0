"""The zygote forks services for the supervisor: their output, their exit
codes, signals by pid, a restart, and nothing left behind when the supervisor goes."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from microshop.runtime.children import command_of, service_argv
from microshop.runtime.forked import ZygoteClient
from microshop.runtime.processes import ProcessSpec, SupervisedProcess
from tests.support.asgi import free_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def zygote() -> AsyncIterator[ZygoteClient]:
    client = await ZygoteClient.start(dict(os.environ))
    try:
        yield client
    finally:
        await client.close()


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def serve(service: str) -> list[str]:
    return command_of(service_argv(service, free_port()))


async def test_a_forked_service_writes_to_its_own_pipes_and_its_exit_code_comes_back(
    zygote: ZygoteClient, tmp_path: Path
) -> None:
    env = {**os.environ, "MICROSHOP_DATA_DIR": str(tmp_path)}
    child = await zygote.spawn(serve("users"), env)
    assert child.stderr is not None  # where a service logs
    started = await asyncio.wait_for(child.stderr.readuntil(b"service started"), 30)
    assert b"token signing key created" in started
    child.terminate()
    # uvicorn stops gracefully, then ends by the signal it was sent, as when exec'd.
    assert await child.wait() == -signal.SIGTERM


async def test_a_service_that_cannot_start_says_why_on_its_stderr(zygote: ZygoteClient) -> None:
    child = await zygote.spawn(
        ["serve", "no-such-service", "--port", "1", "--host", "127.0.0.1"], dict(os.environ)
    )
    assert child.stderr is not None
    complaint = (await child.stderr.read()).decode()
    assert await child.wait() == 1
    assert complaint.startswith("error: unknown service 'no-such-service'")


async def test_a_forked_service_gets_its_own_environment_and_name(
    zygote: ZygoteClient, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "MICROSHOP_DATA_DIR": str(tmp_path), "MICROSHOP_OPEN": "1"}
    process = SupervisedProcess(
        ProcessSpec("catalog", service_argv("catalog", port), env),
        lambda _name, _line: None,
        lambda _event: None,
        launcher=lambda spec: zygote.spawn(command_of(spec.argv), spec.env),
    )
    await process.start()
    try:
        # Its database where its own environment says, not where the zygote's would.
        await eventually(lambda: (tmp_path / "data" / "catalog.db").exists(), 30)
        pid = process.pid
        assert pid is not None
        described = psutil.Process(pid)
        assert " ".join(described.cmdline()).startswith("microshop serve catalog")
        # A crash (SIGKILL) is seen through the zygote and the process comes back.
        process.ready_once = True
        os.kill(pid, signal.SIGKILL)
        await eventually(lambda: process.pid not in (None, pid), 30)
        assert process.restarts == 1
    finally:
        await process.stop()
    assert process.pid is None


async def test_when_the_supervisor_closes_the_zygote_its_children_end_too() -> None:
    client = await ZygoteClient.start(dict(os.environ))
    child = await client.spawn(serve("users"), dict(os.environ))
    zygote_pid = client.process.pid
    await client.close()
    await eventually(lambda: gone(child.pid) and gone(zygote_pid), 20)
