"""The gateway's rate limit at its default, and the supervisor bringing back what dies."""

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.system import System, gone, running_system
from tests.support.http import Api
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(240)
RECOVERY_TIMEOUT = 20.0


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("resilience") / "data"
    with running_system(data_dir, rate_limit=None) as running:
        yield running


async def test_a_client_over_ten_requests_a_second_with_bursts_of_twenty_is_refused(
    api: Api,
) -> None:
    replies = await asyncio.gather(*(api.get("/api/products") for _ in range(25)))
    refused = [body for status, body in replies if status == 429]
    assert refused, [status for status, _ in replies]
    assert refused[0] == {"error": "Too many requests", "retry_after": 1}
    await asyncio.sleep(2.5)  # the bucket refills, leaving later tests unlimited


async def _recovers(api: Api, system: System, name: str, path: str, old_pid: int) -> int:
    async def answering_pid() -> int | None:
        pid = system.state()["processes"][name]["pid"]
        if pid in (None, old_pid):
            return None
        status, _ = await api.get(path)
        return int(pid) if status == 200 else None

    return await eventually(
        answering_pid, RECOVERY_TIMEOUT, interval=0.5, message=f"{name} did not come back"
    )


@pytest.mark.parametrize(("name", "path"), [("catalog", "/api/products"), ("gateway", "/health")])
async def test_a_killed_process_is_restarted_and_its_route_answers_again(
    api: Api, system: System, name: str, path: str
) -> None:
    old_pid = system.state()["processes"][name]["pid"]
    os.kill(old_pid, signal.SIGKILL)
    new_pid = await _recovers(api, system, name, path, old_pid)
    assert gone(old_pid)
    assert system.state()["processes"][name]["restarts"] >= 1
    status = system.microshop("status", "--data-dir", str(system.data_dir))
    assert str(new_pid) in status.stdout
