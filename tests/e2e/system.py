"""A whole microshop system for end-to-end tests: `microshop up --detach` in a temporary
data dir on free ports, stopped with `microshop down`."""

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from microshop.runtime.nats import NATS_PORT_OFFSET
from microshop.runtime.ports import is_port_free
from tests.support.asgi import free_port

ADMIN_EMAIL = "admin@microshop.local"
ADMIN_PASSWORD = "e2e-admin-password-0123"
START_TIMEOUT = 150


@dataclass
class System:
    data_dir: Path
    gateway_port: int
    service_port_base: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def state(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "run" / "state.json").read_text())  # type: ignore[no-any-return]

    def pids(self) -> list[int]:
        return [p["pid"] for p in self.state()["processes"].values() if p["pid"]] + [
            self.state()["supervisor_pid"]
        ]

    def microshop(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return run_microshop(list(args), self.env, timeout)


def run_microshop(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "microshop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment minus any MICROSHOP_* setting that would leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROSHOP_")}
    env["NO_COLOR"] = "1"
    return {**env, **extra}


def free_port_base(services: int = 10) -> int:
    # Below Linux's ephemeral range (32768+), where free_port() picks the gateway's.
    for _ in range(100):
        base = 20000 + random.randrange(120) * 100
        nats = base + NATS_PORT_OFFSET
        ports = [*range(base, base + services + 1), nats, nats + 1]
        if all(is_port_free(port) for port in ports):
            return base
    raise RuntimeError("no free port range found")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@contextmanager
def running_system(
    data_dir: Path,
    *,
    open_mode: bool = False,
    rate_limit: str | None = "off",
    broker: str | None = None,
    bus_prefix: str | None = None,
    replicas: str | None = None,
    **settings: str,
) -> Iterator[System]:
    """rate_limit None: the gateway's default limit; broker None: the embedded NATS;
    replicas as `up --replicas` takes them; settings: more MICROSHOP_* for every process."""
    env = clean_env(MICROSHOP_ADMIN_PASSWORD=ADMIN_PASSWORD, **settings)
    if rate_limit is not None:
        env["MICROSHOP_RATE_LIMIT"] = rate_limit
    if bus_prefix is not None:
        env["MICROSHOP_BUS_PREFIX"] = bus_prefix
    system = System(data_dir, free_port(), free_port_base(), env)
    args = ["up", "--detach", "--data-dir", str(data_dir), "--port", str(system.gateway_port)]
    args += ["--service-port-base", str(system.service_port_base)]
    args += ["--broker", broker] if broker else []
    args += ["--replicas", replicas] if replicas else []
    started = system.microshop(*args, *(["--open"] if open_mode else []), timeout=START_TIMEOUT)
    assert started.returncode == 0, started.stdout + started.stderr
    pids = system.pids()
    try:
        yield system
    finally:
        pids = sorted(set(pids) | set(system.pids()))
        stopped = system.microshop("down", "--data-dir", str(data_dir))
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        left = [pid for pid in pids if not gone(pid)]
        assert not left, f"processes left behind: {left}"
        assert not (data_dir / "run" / "state.json").exists()
        # Every process stopped on SIGTERM, none had to be killed.
        log = (data_dir / "logs" / "microshop.log").read_text(errors="replace")
        assert "ignored SIGTERM" not in log, [x for x in log.splitlines() if "ignored" in x]
