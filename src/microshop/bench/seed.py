"""The chapter's own system (bench/seed-baseline beside the repository), driven through
its scripts: `RESET=1 start.sh`, `smoke.sh` (creates user 1, whom its orders need),
`stop.sh`. This project never copies its code; where the folder is absent, the
comparison says so and measures microshop alone.
"""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from microshop.bench.shared_servers import RABBIT_MNESIA, postgres_root, rabbitmq_root
from microshop.runtime.settings import RuntimeSettings

SEED_ENV = "MICROSHOP_SEED_BASELINE"  # read by RuntimeSettings.seed_baseline
SEED_URL = "http://127.0.0.1:8080"
START_TIMEOUT_S = 300.0
SMOKE_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 120.0
LOG_TAIL_LINES = 20


class SeedFailed(RuntimeError):
    pass


def repo_root() -> Path:
    # src/microshop/bench/seed.py -> the checkout; an installed copy falls back to cwd.
    checkout = Path(__file__).resolve().parents[3]
    return checkout if (checkout / "pyproject.toml").exists() else Path.cwd()


def find_seed_baseline(root: Path | None = None) -> Path | None:
    """$MICROSHOP_SEED_BASELINE, else ../shared/bench/seed-baseline beside the repository."""
    configured = RuntimeSettings().seed_baseline
    candidate = configured or (root or repo_root()).parent / "shared" / "bench" / "seed-baseline"
    return candidate.resolve() if (candidate / "start.sh").is_file() else None


def why_not_runnable(seed_dir: Path) -> str | None:
    """What is missing to run the seed here (setup.sh provides it), or None."""
    if not (seed_dir / ".venv" / "bin" / "python").exists():
        return f"{seed_dir}/.venv is missing: run {seed_dir}/setup.sh once (as root)"
    for tool in ("nginx", "rabbitmq-server", "pg_ctlcluster"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            return f"{tool} is not installed: run {seed_dir}/setup.sh once (as root)"
    return None


@dataclass(frozen=True)
class SeedSystem:
    seed_dir: Path
    url: str
    up_s: float

    def processes(self) -> dict[int, str]:
        """What start.sh started and recorded, named by its pid files (services, nginx,
        PostgreSQL and RabbitMQ where it started them), and the machine's PostgreSQL and
        RabbitMQ where they were running already: its orders use both."""
        recorded: dict[int, str] = {}
        for pid_file in sorted((self.seed_dir / "run" / "pids").glob("*.pid")):
            try:
                recorded[int(pid_file.read_text().split()[0])] = pid_file.stem
            except (OSError, ValueError, IndexError):
                continue
        shared = {**postgres_root(), **rabbitmq_root()}
        return {**{pid: name for pid, name in shared.items() if pid not in recorded}, **recorded}


def rabbit_hostname_shim(shim_dir: Path, mnesia: Path = RABBIT_MNESIA) -> dict[str, str]:
    """The seed finds a running RabbitMQ by its pid file `rabbit@$(hostname -s).pid`; a
    broker whose node has another name (NODENAME=rabbit@localhost in rabbitmq-env.conf)
    makes start.sh refuse to start. A `hostname` that answers the node's host, first on
    the scripts' PATH, fixes that without touching the seed's files."""
    short = socket.gethostname().split(".")[0]
    pid_files = sorted(mnesia.glob("rabbit@*.pid"))
    if (mnesia / f"rabbit@{short}.pid").exists() or len(pid_files) != 1:
        return {}
    node_host = pid_files[0].stem.split("@", 1)[1]
    shim_dir.mkdir(parents=True, exist_ok=True)
    shim = shim_dir / "hostname"
    shim.write_text(f"#!/bin/sh\necho {node_host}\n")
    shim.chmod(0o755)
    return {"PATH": f"{shim_dir}:{os.environ.get('PATH', '')}"}


def _script(seed_dir: Path, name: str, timeout: float, log: Path, **env: str) -> None:
    with log.open("ab") as out:
        try:
            done = subprocess.run(
                ["bash", str(seed_dir / name)],
                cwd=seed_dir,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SeedFailed(f"{name} took over {timeout:g} s; see {log}") from exc
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        raise SeedFailed(f"{name} failed (exit {done.returncode}):\n" + "\n".join(tail))


@contextmanager
def started_seed(seed_dir: Path, log: Path) -> Iterator[SeedSystem]:
    """The seed from a fresh database (like `docker-compose down -v && up`), then stopped."""
    shim = rabbit_hostname_shim(log.parent / "shim")
    began = time.perf_counter()
    try:
        _script(seed_dir, "start.sh", START_TIMEOUT_S, log, RESET="1", **shim)
        up_s = time.perf_counter() - began
        _script(seed_dir, "smoke.sh", SMOKE_TIMEOUT_S, log, **shim)
        yield SeedSystem(seed_dir, SEED_URL, up_s)
    finally:
        _script(seed_dir, "stop.sh", STOP_TIMEOUT_S, log, **shim)
