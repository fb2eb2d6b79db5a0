"""How events fold into an order's view: pure rules, no I/O.

Each consumer subscribes per event type, so events of one order can arrive in
any order (an `order.approved` before its `order.created`). Every part of the
view therefore remembers when it was last set, and an older fact never
overwrites a newer one.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Stamped:
    value: str | None = None
    at: datetime | None = None

    def apply(self, value: str, at: datetime) -> bool:
        """Takes `value` unless a newer one is already in place."""
        if self.at is not None and at < self.at:
            return False
        self.value, self.at = value, at
        return True


# The status an order.created carries is its first: any outcome beats it, even
# one stamped a hair earlier by another service's clock.
FIRST_STATUS = "pending"


def newer_status(current: Stamped, status: str, at: datetime) -> bool:
    if status == FIRST_STATUS and current.value not in (None, FIRST_STATUS):
        return False
    return current.apply(status, at)
