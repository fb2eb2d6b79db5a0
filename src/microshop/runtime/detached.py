"""`microshop up --detach`: the same `microshop up` in a session of its own, its
output in `<data-dir>/logs/microshop.log`, waited for until the system is ready.

    supervisor = launch_detached(options)          # after the same checks as `up`
    state = wait_until_ready(options.paths, supervisor)
"""

import os
import subprocess
import sys
import time

from microshop.runtime.control import stop_system
from microshop.runtime.errors import StartupError
from microshop.runtime.logs import log_tail
from microshop.runtime.state import RunPaths, RunState, Status, read_state
from microshop.runtime.system import UpOptions, preflight

DETACHED_START_TIMEOUT = 180.0
POLL_INTERVAL = 0.2


class DetachedStartFailed(StartupError):
    """The background supervisor failed after it was started: its log tells why."""

    def __init__(self, message: str, log_tail: list[str]) -> None:
        super().__init__(message)
        self.log_tail = log_tail


def _up_argv(options: UpOptions) -> list[str]:
    argv = [sys.executable, "-m", "microshop", "up", "--data-dir", str(options.data_dir)]
    argv += ["--port", str(options.gateway_port)]
    argv += ["--service-port-base", str(options.service_port_base)]
    replicas = ",".join(f"{name}={n}" for name, n in options.replicas.items() if n > 1)
    argv += ["--replicas", replicas] if replicas else []
    return argv + (["--open"] if options.open_mode else [])


def _up_env(options: UpOptions) -> dict[str, str]:
    env = dict(os.environ)
    if options.external_broker is not None:
        # Through the environment, not argv: `ps` would show a password in the URL.
        env["MICROSHOP_BROKER_URL"] = options.external_broker
    else:
        env.pop("MICROSHOP_BROKER_URL", None)
    return env


def launch_detached(options: UpOptions) -> subprocess.Popen[bytes]:
    """Checks what `up` checks first (StartupError), then starts the supervisor."""
    preflight(options)
    paths = options.paths
    paths.log_file.parent.mkdir(parents=True, exist_ok=True)
    with paths.log_file.open("ab") as log:
        return subprocess.Popen(
            _up_argv(options),
            env=_up_env(options),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_ready(paths: RunPaths, supervisor: subprocess.Popen[bytes]) -> RunState:
    """The state once every process is healthy; DetachedStartFailed if it never gets there."""
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
        time.sleep(POLL_INTERVAL)
    stop_system(paths)
    raise DetachedStartFailed(
        f"microshop did not become ready within {DETACHED_START_TIMEOUT:g} s", log_tail(paths)
    )
