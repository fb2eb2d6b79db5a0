"""What a running system looks like on disk, so `down`, `status` and `up --detach`
can find the supervisor and its processes.

    <data-dir>/run/supervisor.pid   the supervisor's pid
    <data-dir>/run/state.json       RunState: status, and each process's pid and port
    <data-dir>/run/envoy.json       the rendered gateway configuration
    <data-dir>/logs/microshop.log   the supervisor's output when detached
    <data-dir>/nats/                the embedded NATS server's JetStream store
"""

import json
import os
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Status(StrEnum):
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"
    STOPPING = "stopping"


@dataclass
class ProcessRecord:
    pid: int | None
    port: int
    health_url: str
    # The public URL through the gateway, for the table.
    url: str
    restarts: int = 0
    # psutil's create_time: tells our process apart from a later one reusing its pid.
    started_at: float | None = None
    # For a service's instance: which service, and its id in the registry.
    service: str | None = None
    instance: str | None = None


@dataclass
class RunState:
    supervisor_pid: int
    status: Status
    data_dir: str
    gateway_url: str
    admin_url: str
    open_mode: bool
    processes: dict[str, ProcessRecord] = field(default_factory=dict)
    error: str | None = None
    # Where the services publish and consume events, so operator commands find it.
    broker_url: str | None = None
    bus_prefix: str = "microshop"
    # The supervisor's control API (scale, chaos), on loopback.
    control_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunState":
        processes = {name: ProcessRecord(**p) for name, p in data.get("processes", {}).items()}
        return cls(**{**data, "status": Status(data["status"]), "processes": processes})


@dataclass(frozen=True)
class RunPaths:
    data_dir: Path

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "supervisor.pid"

    @property
    def envoy_config(self) -> Path:
        return self.run_dir / "envoy.json"

    @property
    def eds_dir(self) -> Path:
        """The gateway's endpoint files, one per service (runtime/edge.py)."""
        return self.run_dir / "eds"

    @property
    def nats_store(self) -> Path:
        return self.data_dir / "nats"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "microshop.log"

    @property
    def admin_password_file(self) -> Path:
        return self.data_dir / "secrets" / "admin-password"


def _write_atomically(path: Path, text: str) -> None:
    # Readers (`status`, a waiting `up --detach`) never see a half-written file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def write_state(paths: RunPaths, state: RunState) -> None:
    _write_atomically(paths.state_file, json.dumps(state.to_json(), indent=2))


def read_state(paths: RunPaths) -> RunState | None:
    try:
        return RunState.from_json(json.loads(paths.state_file.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_pid(paths: RunPaths, pid: int) -> None:
    _write_atomically(paths.pid_file, f"{pid}\n")


def read_pid(paths: RunPaths) -> int | None:
    try:
        return int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def remove_run_files(paths: RunPaths) -> None:
    for path in (paths.state_file, paths.pid_file):
        path.unlink(missing_ok=True)
