"""Commands that act on a system from outside: `up --detach`, `down`, `status`."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil

from microshop.runtime.checks import is_microshop_supervisor, running_supervisor
from microshop.runtime.errors import StartupError
from microshop.runtime.health import check_all
from microshop.runtime.state import RunPaths, RunState, Status, read_state, remove_run_files
from microshop.runtime.system import UpOptions, preflight

DETACHED_START_TIMEOUT = 180.0
DOWN_TIMEOUT = 20.0
LOG_TAIL_LINES = 15


def _up_argv(options: UpOptions) -> list[str]:
    argv = [sys.executable, "-m", "microshop", "up", "--data-dir", str(options.data_dir)]
    argv += ["--port", str(options.gateway_port)]
    argv += ["--service-port-base", str(options.service_port_base)]
    return argv + (["--open"] if options.open_mode else [])


def _up_env(options: UpOptions) -> dict[str, str]:
    env = dict(os.environ)
    if options.external_broker is not None:
        # Through the environment, not argv: `ps` would show a password in the URL.
        env["MICROSHOP_BROKER_URL"] = options.external_broker
    else:
        env.pop("MICROSHOP_BROKER_URL", None)
    return env


def log_tail(paths: RunPaths, lines: int = LOG_TAIL_LINES) -> list[str]:
    try:
        return paths.log_file.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


class DetachedStartFailed(StartupError):
    """The background supervisor failed after it was started: its log tells why."""

    def __init__(self, message: str, log_tail: list[str]) -> None:
        super().__init__(message)
        self.log_tail = log_tail


def start_detached(options: UpOptions) -> RunState:
    """Starts the supervisor in its own session and waits until it is ready."""
    preflight(options)
    paths = options.paths
    paths.log_file.parent.mkdir(parents=True, exist_ok=True)
    with paths.log_file.open("ab") as log:
        supervisor = subprocess.Popen(
            _up_argv(options),
            env=_up_env(options),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + DETACHED_START_TIMEOUT
    while time.monotonic() < deadline:
        state = read_state(paths)
        ours = state is not None and state.supervisor_pid == supervisor.pid
        if ours and state is not None and state.status is Status.READY:
            return state
        if ours and state is not None and state.status is Status.FAILED:
            supervisor.wait(timeout=30)
            raise DetachedStartFailed(state.error or "microshop failed to start", log_tail(paths))
        if supervisor.poll() is not None:
            tail = log_tail(paths)
            last = next((line for line in reversed(tail) if line.strip()), "")
            message = last.removeprefix("error: ") or "microshop exited during startup"
            raise DetachedStartFailed(message, tail)
        time.sleep(0.2)
    stop_system(paths)
    raise DetachedStartFailed(
        f"microshop did not become ready within {DETACHED_START_TIMEOUT:g} s", log_tail(paths)
    )


@dataclass
class DownReport:
    stopped: bool
    message: str


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


def stop_system(paths: RunPaths, timeout: float = DOWN_TIMEOUT) -> DownReport:
    state = read_state(paths)
    pid = running_supervisor(paths)
    if pid is None:
        leftovers = _recorded_processes(state)
        for process in leftovers:
            process.kill()
        remove_run_files(paths)
        if leftovers:
            return DownReport(True, f"killed {len(leftovers)} leftover process(es)")
        return DownReport(False, f"microshop is not running with data dir {paths.data_dir}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_microshop_supervisor(pid):
        time.sleep(0.1)
    if is_microshop_supervisor(pid):
        for process in [*_recorded_processes(state), psutil.Process(pid)]:
            process.kill()
        remove_run_files(paths)
        return DownReport(
            True, f"supervisor {pid} did not stop within {timeout:g} s; killed it all"
        )
    return DownReport(True, f"stopped microshop (supervisor pid {pid})")


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
