import asyncio
import os
import signal
import subprocess
import sys

import psutil
import pytest

from microshop.runtime.processes import ProcessSpec, SupervisedProcess
from microshop.runtime.restart_policy import MAX_FAILURES_BEFORE_READY
from tests.support.waiting import eventually, wait_until

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]


def supervised(argv: list[str], events: list[str] | None = None) -> SupervisedProcess:
    lines: list[str] = []
    sink = events if events is not None else []
    return SupervisedProcess(
        ProcessSpec("sleeper", argv, dict(os.environ)),
        lambda _name, line: lines.append(line),
        sink.append,
    )


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_a_killed_process_is_restarted_with_a_new_pid() -> None:
    events: list[str] = []
    process = supervised(SLEEPER, events)
    process.ready_once = True
    await process.start()
    first = process.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    await eventually(lambda: process.pid not in (None, first), timeout=10)
    assert process.restarts == 1
    assert any("exited with code -9; restarting in 0.5 s" in e for e in events)
    second = process.pid
    await process.stop()
    assert process.pid is None
    assert second is not None and gone(second)


async def test_a_process_failing_before_it_was_ever_ready_is_given_up() -> None:
    failing = [sys.executable, "-c", "import sys; sys.exit('error: the database is unreachable')"]
    process = supervised(failing)
    await process.start()
    await asyncio.wait_for(process.gave_up.wait(), timeout=20)
    assert process.restart_policy.failures_before_ready == MAX_FAILURES_BEFORE_READY
    assert process.last_error_line == "error: the database is unreachable"
    await process.stop()


async def test_stopping_kills_a_process_that_ignores_sigterm() -> None:
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)",
    ]
    lines: list[str] = []
    process = SupervisedProcess(
        ProcessSpec("stubborn", stubborn, dict(os.environ)),
        lambda _name, line: lines.append(line),
        lambda _event: None,
    )
    await process.start()
    await eventually(lambda: lines == ["ready"], timeout=10)
    pid = process.pid
    assert pid is not None
    await process.stop(timeout=0.5)
    assert gone(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_children_die_with_a_supervisor_killed_without_warning() -> None:
    script = (
        "import asyncio, os, sys\n"
        "from microshop.runtime.processes import ProcessSpec, SupervisedProcess\n"
        "async def main():\n"
        f"    p = SupervisedProcess(ProcessSpec('s', {SLEEPER!r}, dict(os.environ)),"
        " lambda n, l: None, lambda m: None)\n"
        "    await p.start()\n"
        "    print(p.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    supervisor = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert supervisor.stdout is not None
    child = int(supervisor.stdout.readline())
    supervisor.kill()
    supervisor.wait()
    supervisor.stdout.close()
    wait_until(lambda: gone(child), timeout=10, message="the child outlived its supervisor")
