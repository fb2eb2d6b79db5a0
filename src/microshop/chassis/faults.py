"""Fault injection, off by default: the one place where a process is made to fail
on purpose, for the fault tests and for `microshop chaos`.

Crash points make a process die at an exact point, such as between publishing an
event and marking it sent, or between a saga step's call and the save of its
outcome (set at start: `MICROSHOP_CRASH_AT=inventory.called,outbox.published`).

HTTP faults are switched on at run time in one instance (`microshop chaos delay
catalog 2000`, `... fail catalog 30`) through its /internal/faults route and add
latency or errors to every request but the health checks and that route itself.
With nothing configured each costs one comparison.
"""

import asyncio
import os
import random
import signal
from dataclasses import dataclass

import structlog
from starlette.types import Scope

log = structlog.get_logger()

_points: frozenset[str] = frozenset()
# Paths no injected fault touches: the supervisor and the registry must still see
# the instance, and `heal` must still reach it.
SPARED = ("/health", "/internal/faults")


class InjectedFault(Exception):
    """An error made on purpose (`microshop chaos fail`)."""


@dataclass(frozen=True, slots=True)
class HttpFaults:
    delay_ms: int = 0
    fail_percent: float = 0.0

    @property
    def active(self) -> bool:
        return self.delay_ms > 0 or self.fail_percent > 0


NONE = HttpFaults()
_http = NONE


def configure(crash_at: str | None) -> None:
    global _points
    _points = frozenset(p.strip() for p in (crash_at or "").split(",") if p.strip())


def crash_point(name: str) -> None:
    """SIGKILLs this process at `name` if configured: exactly where a power cut could land."""
    if name in _points:
        log.warning("crash point reached: killing this process", point=name)
        os.kill(os.getpid(), signal.SIGKILL)


def set_http_faults(faults: HttpFaults) -> None:
    global _http
    if faults != _http:
        log.warning("http faults changed", delay_ms=faults.delay_ms, fail=faults.fail_percent)
    _http = faults


def http_faults() -> HttpFaults:
    return _http


async def inject(scope: Scope) -> None:
    """Delays or fails this request as configured (a no-op unless switched on)."""
    faults = _http
    if not faults.active or str(scope.get("path", "")).startswith(SPARED):
        return
    if faults.delay_ms:
        await asyncio.sleep(faults.delay_ms / 1000)
    if faults.fail_percent and random.uniform(0, 100) < faults.fail_percent:
        raise InjectedFault(f"injected failure ({faults.fail_percent:g} % of requests)")
