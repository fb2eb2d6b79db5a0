"""Checks made before anything starts, each failing with one readable line."""

import os
from pathlib import Path

import psutil

from microshop.runtime.errors import StartupError
from microshop.runtime.state import RunPaths, read_pid


def check_data_dir(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StartupError(f"data dir {data_dir} is not writable: {exc.strerror or exc}") from None


def is_microshop_supervisor(pid: int) -> bool:
    """True if `pid` runs `microshop up` (a stale pid file may name anything by now)."""
    try:
        cmdline = psutil.Process(pid).cmdline()
    except psutil.Error:
        return False
    return "up" in cmdline and any("microshop" in part for part in cmdline)


def running_supervisor(paths: RunPaths) -> int | None:
    pid = read_pid(paths)
    return pid if pid is not None and is_microshop_supervisor(pid) else None


def ensure_not_running(paths: RunPaths) -> None:
    pid = running_supervisor(paths)
    if pid is not None:
        raise StartupError(
            f"microshop is already running with data dir {paths.data_dir} (pid {pid}); "
            f"stop it with `microshop down --data-dir {paths.data_dir}`"
        )
