"""The gateway's per-client-IP rate limit, written as `<rate>/<unit>[:<burst>]`.

parse_rate_limit("10/s:20")  # the chapter: 10 requests a second, bursts of 20
parse_rate_limit("off")      # None: no limit (tests, benchmarks)
"""

import math
from dataclasses import dataclass
from typing import Any

DEFAULT_RATE_LIMIT = "10/s:20"
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


LOCAL_RATE_LIMIT = (
    "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
)


def rate_limit_filter(limit: RateLimit) -> dict[str, Any]:
    """Envoy's local rate limit filter with one token bucket per client address."""
    bucket = {
        "max_tokens": limit.burst,
        "tokens_per_fill": limit.requests,
        "fill_interval": f"{limit.per_seconds}s",
    }
    always = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    retry_after = {"key": "retry-after", "value": str(limit.retry_after)}
    return {
        "name": "envoy.filters.http.local_ratelimit",
        "typed_config": {
            "@type": LOCAL_RATE_LIMIT,
            "stat_prefix": "per_client_ip",
            "token_bucket": bucket,
            "filter_enabled": {**always, "runtime_key": "microshop.rate_limit_enabled"},
            "filter_enforced": {**always, "runtime_key": "microshop.rate_limit_enforced"},
            # Buckets are created per address on first sight, up to this many (LRU).
            "descriptors": [{"entries": [{"key": "remote_address"}], "token_bucket": bucket}],
            "max_dynamic_descriptors": 10_000,
            # Otherwise every request also spends a token of the one shared default bucket.
            "always_consume_default_token_bucket": False,
            # The filter's own rate_limits: descriptors on routes are deprecated.
            "rate_limits": [{"actions": [{"remote_address": {}}]}],
            "response_headers_to_add": [
                {"header": retry_after, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
            ],
            "enable_x_ratelimit_headers": "DRAFT_VERSION_03",
        },
    }
