"""Fault injection, off by default: where the fault tests (and a curious user)
make a process die at an exact point, such as between publishing an event and
marking it sent, or between a saga step's call and the save of its outcome.

    MICROSHOP_CRASH_AT=inventory.called,outbox.published

Production code names its crash points (`crash_point("outbox.published")`); with
nothing configured that is one set lookup.
"""

import os
import signal

import structlog

log = structlog.get_logger()

_points: frozenset[str] = frozenset()


def configure(crash_at: str | None) -> None:
    global _points
    _points = frozenset(p.strip() for p in (crash_at or "").split(",") if p.strip())


def crash_point(name: str) -> None:
    """SIGKILLs this process at `name` if configured: exactly where a power cut could land."""
    if name in _points:
        log.warning("crash point reached: killing this process", point=name)
        os.kill(os.getpid(), signal.SIGKILL)
