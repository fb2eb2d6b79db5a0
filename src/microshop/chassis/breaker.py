"""A circuit breaker per downstream service (the chapter's Exercise 1).

Closed: calls go through; `failure_threshold` failures in a row open it. Open:
calls fail at once for `reset_timeout` seconds, sparing a struggling peer and
the caller's own threads of work. Half-open: one trial call decides; success
closes it, failure opens it again. Written here rather than taken from PyPI:
pybreaker is synchronous and the asyncio ones are unmaintained; this is 40 lines.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    reset_timeout: float = 60.0
    clock: Callable[[], float] = field(default=time.monotonic)
    failures: int = 0
    opened_at: float | None = None
    trial_running: bool = False

    @property
    def state(self) -> State:
        if self.opened_at is None:
            return State.CLOSED
        if self.clock() - self.opened_at >= self.reset_timeout:
            return State.HALF_OPEN
        return State.OPEN

    def retry_after(self) -> int:
        """Whole seconds until a trial call will be let through (at least 1)."""
        if self.opened_at is None:
            return 1
        return max(1, round(self.reset_timeout - (self.clock() - self.opened_at)))

    def allow(self) -> bool:
        state = self.state
        if state == State.CLOSED:
            return True
        if state == State.HALF_OPEN and not self.trial_running:
            self.trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self.failures, self.opened_at, self.trial_running = 0, None, False

    def record_failure(self) -> None:
        self.trial_running = False
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()
