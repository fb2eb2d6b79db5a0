"""The log of a system started with `microshop up --detach`: `<data-dir>/logs/microshop.log`,
the supervisor's output and every child's prefixed lines (a foreground `up` writes
them to its terminal instead).

    for line in follow_log(paths):   # each new line once it is whole, until Ctrl-C
        print(line)
"""

import os
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from microshop.runtime.errors import StartupError
from microshop.runtime.state import RunPaths

LOG_TAIL_LINES = 15
FOLLOW_POLL_INTERVAL = 0.2


def log_tail(paths: RunPaths, lines: int = LOG_TAIL_LINES) -> list[str]:
    try:
        return paths.log_file.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def ensure_log(paths: RunPaths) -> None:
    if not paths.log_file.is_file():
        raise StartupError(
            f"no log at {paths.log_file}: only `microshop up --detach` writes one "
            "(a foreground `up` logs to its terminal)"
        )


def _pause() -> None:
    time.sleep(FOLLOW_POLL_INTERVAL)


def follow_log(paths: RunPaths, wait: Callable[[], None] = _pause) -> Iterator[str]:
    """Every line appended to the log from this call on; `wait()` runs whenever there
    is nothing new. The iterator never ends by itself."""
    log = paths.log_file.open(errors="replace")
    log.seek(0, os.SEEK_END)
    return _new_lines(log, wait)


def _new_lines(log: TextIO, wait: Callable[[], None]) -> Iterator[str]:
    with log:
        # A line the supervisor is still writing is yielded once it is whole.
        partial = ""
        while True:
            read = log.readline()
            if not read:
                wait()
                continue
            partial += read
            if partial.endswith("\n"):
                yield partial.removesuffix("\n")
                partial = ""
