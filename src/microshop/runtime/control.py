"""Commands that act on a running system from outside: `down` and `status`."""

import asyncio
import os
import signal
import time

import psutil

from microshop.runtime.checks import is_microshop_supervisor, running_supervisor
from microshop.runtime.errors import StartupError
from microshop.runtime.health import check_all
from microshop.runtime.state import RunPaths, RunState, read_state, remove_run_files

DOWN_TIMEOUT = 20.0


def _recorded_processes(state: RunState | None) -> list[psutil.Process]:
    """The recorded processes that still run, skipping pids reused by someone else."""
    found = []
    for record in state.processes.values() if state else []:
        if record.pid is None:
            continue
        try:
            process = psutil.Process(record.pid)
            if record.started_at is None or abs(process.create_time() - record.started_at) < 1.0:
                found.append(process)
        except psutil.Error:
            continue
    return found


def stop_system(paths: RunPaths, timeout: float = DOWN_TIMEOUT) -> str:
    """Stops the system (SIGTERM, then SIGKILL after `timeout`); says what it did."""
    state = read_state(paths)
    pid = running_supervisor(paths)
    if pid is None:
        leftovers = _recorded_processes(state)
        for process in leftovers:
            process.kill()
        remove_run_files(paths)
        if leftovers:
            return f"killed {len(leftovers)} leftover process(es)"
        return f"microshop is not running with data dir {paths.data_dir}"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_microshop_supervisor(pid):
        time.sleep(0.1)
    if is_microshop_supervisor(pid):
        for process in [*_recorded_processes(state), psutil.Process(pid)]:
            process.kill()
        remove_run_files(paths)
        return f"supervisor {pid} did not stop within {timeout:g} s; killed it all"
    return f"stopped microshop (supervisor pid {pid})"


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def system_status(paths: RunPaths) -> tuple[RunState, dict[str, bool | None], dict[str, bool]]:
    state = read_state(paths)
    if state is None or not _alive(state.supervisor_pid):
        raise StartupError(f"microshop is not running with data dir {paths.data_dir}")
    urls = {name: record.health_url for name, record in state.processes.items()}
    health: dict[str, bool | None] = dict(asyncio.run(check_all(urls)))
    alive = {name: _alive(record.pid) for name, record in state.processes.items()}
    return state, health, alive
