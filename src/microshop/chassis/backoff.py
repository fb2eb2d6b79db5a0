"""The one backoff formula: how long to wait before attempt `attempt + 1`.

    backoff(1) == 0.2, backoff(2) == 0.4, ... capped at `cap`
    backoff(attempt, jitter=True)   # a random share of it, 50-100 %

Jitter keeps callers that failed together from retrying in lockstep.
"""

import random


def backoff(attempt: int, *, base: float = 0.2, cap: float = 5.0, jitter: bool = False) -> float:
    delay: float = min(base * 2 ** max(attempt - 1, 0), cap)
    return delay * random.uniform(0.5, 1.0) if jitter else delay
