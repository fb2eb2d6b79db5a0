"""The gateway's per-client-IP rate limit, written as `<rate>/<unit>[:<burst>]`.

parse_rate_limit("10/s:20")  # the chapter: 10 requests a second, bursts of 20
parse_rate_limit("off")      # None: no limit (tests, benchmarks)
"""

import math
import os
from dataclasses import dataclass

DEFAULT_RATE_LIMIT = "10/s:20"
RATE_LIMIT_ENV = "MICROSHOP_RATE_LIMIT"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_OFF = {"off", "none", "0", "false", "no"}


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests: int
    per_seconds: int
    burst: int

    @property
    def retry_after(self) -> int:
        """Whole seconds until the bucket holds one token again."""
        return max(1, math.ceil(self.per_seconds / self.requests))

    def __str__(self) -> str:
        unit = {seconds: unit for unit, seconds in _UNIT_SECONDS.items()}[self.per_seconds]
        return f"{self.requests}/{unit}:{self.burst}"


class InvalidRateLimit(ValueError):
    pass


def parse_rate_limit(text: str) -> RateLimit | None:
    text = text.strip().lower()
    if text in _OFF:
        return None
    rate, _, burst_text = text.partition(":")
    requests_text, _, unit = rate.partition("/")
    try:
        requests = int(requests_text)
        burst = int(burst_text) if burst_text else requests
        per_seconds = _UNIT_SECONDS[unit or "s"]
    except (ValueError, KeyError):
        raise InvalidRateLimit(
            f"rate limit {text!r} is not like '10/s:20' (rate/unit:burst, unit s, m or h) or 'off'"
        ) from None
    if requests < 1 or burst < 1:
        raise InvalidRateLimit(f"rate limit {text!r} needs a rate and a burst of at least 1")
    return RateLimit(requests, per_seconds, burst)


def rate_limit_from_env() -> RateLimit | None:
    return parse_rate_limit(os.environ.get(RATE_LIMIT_ENV, DEFAULT_RATE_LIMIT))
