"""The machine's own PostgreSQL and RabbitMQ, found by their pid files. The chapter's
system uses both (its users, its order events) and is charged for them whole, marked
shared: its backends live for one request each, too short to be seen one by one.
Microshop on PostgreSQL keeps a pool of connections, so it is charged for the backends
that serve its own databases only, not for other clients of the same server."""

from collections.abc import Collection
from pathlib import Path

import psutil

POSTGRES_PID_FILES = Path("/var/run/postgresql")
RABBIT_MNESIA = Path("/var/lib/rabbitmq/mnesia")
POSTGRES = "postgres (shared)"
RABBITMQ = "rabbitmq (shared)"
BACKENDS = "postgres (its databases)"


def _first_pid(pid_files: list[Path]) -> int | None:
    for pid_file in pid_files:
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return None


def postgres_root(run_dir: Path = POSTGRES_PID_FILES) -> dict[int, str]:
    """The postmaster (every backend is its child): {pid: name}, or {} when not running."""
    pid = _first_pid(sorted(run_dir.glob("*.pid")))
    return {pid: POSTGRES} if pid else {}


def postgres_backends(
    databases: Collection[str], run_dir: Path = POSTGRES_PID_FILES
) -> dict[int, str]:
    """The backends serving `databases`: a backend's title names its database
    ("postgres: 15/main: postgres <database> 127.0.0.1(49278) idle")."""
    found: dict[int, str] = {}
    for postmaster in postgres_root(run_dir):
        try:
            backends = psutil.Process(postmaster).children()
        except psutil.Error:
            return found
        for backend in backends:
            try:
                words = " ".join(backend.cmdline()).split()
            except psutil.Error:
                continue
            if any(database in words for database in databases):
                found[backend.pid] = BACKENDS
    return found


def rabbitmq_root(mnesia: Path = RABBIT_MNESIA) -> dict[int, str]:
    pid = _first_pid(sorted(mnesia.glob("rabbit@*.pid")))
    return {pid: RABBITMQ} if pid else {}
