"""When a supervised process that exited is started again, and when it is given up.

policy = RestartPolicy()
policy.delay_after_exit(uptime=2.0, was_ready=True)   # 0.5, then 1.0, 2.0, ... 30.0
policy.delay_after_exit(uptime=0.3, was_ready=False)  # None the third time: give up
"""

from dataclasses import dataclass

from microshop.chassis.backoff import backoff

# A process that keeps dying before it ever became ready is misconfigured, not unlucky.
MAX_FAILURES_BEFORE_READY = 3


@dataclass
class RestartPolicy:
    first_delay: float = 0.5
    max_delay: float = 30.0
    # A process that stayed up this long died by bad luck, not in a crash loop:
    # restart it as quickly as the first time.
    stable_after: float = 60.0
    max_failures_before_ready: int = MAX_FAILURES_BEFORE_READY
    failures_before_ready: int = 0
    _exits_in_a_row: int = 0

    def delay_after_exit(self, uptime: float, *, was_ready: bool) -> float | None:
        """Seconds to wait before restarting a process that stayed up `uptime` seconds,
        or None to give it up."""
        if not was_ready:
            self.failures_before_ready += 1
            if self.failures_before_ready >= self.max_failures_before_ready:
                return None
        self._exits_in_a_row = 1 if uptime >= self.stable_after else self._exits_in_a_row + 1
        return backoff(self._exits_in_a_row, base=self.first_delay, cap=self.max_delay)
