"""The microshop under test: started here with `microshop up --detach` in a temporary
data dir on free ports with the edge rate limit off, and always stopped again; or one
that already runs (`--url`, and `--data-dir` to find its processes and sagas)."""

import os
import random
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from microshop.bench.postgres import BenchDatabases
from microshop.bench.shared_servers import postgres_backends
from microshop.runtime.ports import is_port_free
from microshop.runtime.reach import operator_headers
from microshop.runtime.settings import RuntimeSettings
from microshop.runtime.state import RunPaths, read_state

UP_TIMEOUT_S = 240.0
DOWN_TIMEOUT_S = 60.0
RATE_LIMIT_OFF = "off (MICROSHOP_RATE_LIMIT=off)"
RATE_LIMIT_UNKNOWN = "as the running system was started (MICROSHOP_RATE_LIMIT)"
# --tracing: what the system under test records. "default" leaves the settings alone
# (a few traces per second and process: every order of a person clicking, a sample
# of a load test); "off" records no span; "all" records every request and event.
TRACING = {
    "default": {},
    "off": {"MICROSHOP_TRACING": "false"},
    "all": {"MICROSHOP_TRACING": "true", "MICROSHOP_TRACE_SAMPLE_RATIO": "1"},
}


class SystemFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class MicroshopSystem:
    url: str
    data_dir: Path | None
    admin_password: str | None
    rate_limit: str
    # Seconds from `microshop up` to every process healthy; None when not started here.
    up_s: float | None = None
    # --db postgres: the databases in the machine's PostgreSQL that its services use.
    databases: tuple[str, ...] = ()

    @property
    def on_postgres(self) -> bool:
        return bool(self.databases)

    def processes(self) -> dict[int, str]:
        """The supervisor and every process in state.json, by name (read again each
        time: a restarted service has a new pid); its PostgreSQL backends if any."""
        state = read_state(RunPaths(self.data_dir)) if self.data_dir else None
        if state is None:
            return {}
        named = {p.pid: name for name, p in state.processes.items() if p.pid}
        backends = postgres_backends(self.databases) if self.databases else {}
        return {**backends, state.supervisor_pid: "supervisor", **named}

    def sagas_headers(self) -> dict[str, str]:
        if self.data_dir is None:
            return {}
        return operator_headers(RunPaths(self.data_dir), RuntimeSettings())

    def sagas_url(self) -> str | None:
        state = read_state(RunPaths(self.data_dir)) if self.data_dir else None
        orders = state.processes.get("orders") if state else None
        return f"http://127.0.0.1:{orders.port}/internal/sagas" if orders else None


def attached_system(url: str, data_dir: Path | None) -> MicroshopSystem:
    configured = RuntimeSettings().admin_password
    password = configured.get_secret_value() if configured else None
    if password is None and data_dir is not None:
        secret = RunPaths(data_dir).admin_password_file
        password = secret.read_text().strip() if secret.exists() else None
    return MicroshopSystem(url, data_dir, password, RATE_LIMIT_UNKNOWN)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_port_base(count: int = 12) -> int:
    # Below Linux's ephemeral range (32768+), where free_port() and clients pick theirs.
    for _ in range(200):
        base = 20000 + random.randrange(120) * 100
        if all(is_port_free(port) for port in range(base, base + count)):
            return base
    raise SystemFailed("no free range of ports for the services")


def _microshop(args: list[str], env: dict[str, str], timeout: float) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "microshop", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SystemFailed(f"microshop {args[0]} took over {timeout:g} s") from exc
    if done.returncode != 0:
        raise SystemFailed(f"microshop {args[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def started_microshop(
    data_dir: Path,
    databases: BenchDatabases | None = None,
    replicas: str | None = None,
    tracing: str = "default",
) -> Iterator[MicroshopSystem]:
    """`microshop up --detach`, timed to all-healthy; `microshop down` on the way out.
    `databases`: one per service in PostgreSQL (None: SQLite files in the data dir);
    `tracing`: one of TRACING."""
    password = secrets.token_urlsafe(18)
    env = {**os.environ, "MICROSHOP_RATE_LIMIT": "off", "MICROSHOP_ADMIN_PASSWORD": password}
    env.update({"NO_COLOR": "1", **(databases.env if databases else {}), **TRACING[tracing]})
    port = free_port()
    args = ["up", "--detach", "--data-dir", str(data_dir), "--port", str(port)]
    args += ["--service-port-base", str(free_port_base())]
    args += ["--replicas", replicas] if replicas else []
    began = time.perf_counter()
    try:
        _microshop(args, env, UP_TIMEOUT_S)
        up_s = time.perf_counter() - began
        yield MicroshopSystem(
            f"http://127.0.0.1:{port}",
            data_dir,
            password,
            RATE_LIMIT_OFF,
            up_s,
            tuple(databases.names.values()) if databases else (),
        )
    finally:
        if RunPaths(data_dir).state_file.exists():
            _microshop(["down", "--data-dir", str(data_dir)], env, DOWN_TIMEOUT_S)
