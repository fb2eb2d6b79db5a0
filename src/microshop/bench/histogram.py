"""Latency percentiles: an HDR histogram when the `hdrhistogram` package is installed,
else exact percentiles over every recorded value (fine for a few million samples).

    latencies = LatencyHistogram()
    latencies.record(0.0042)           # seconds
    latencies.percentile_ms(99.0)      # 4.2
"""

import math
from typing import Protocol

# Microsecond resolution, up to 10 minutes, 3 significant digits: 0.1 % error.
LOWEST_US = 1
HIGHEST_US = 600_000_000
SIGNIFICANT_DIGITS = 3
PERCENTILES = (50.0, 95.0, 99.0, 99.9)


class _Backend(Protocol):
    def record(self, micros: int) -> None: ...
    def percentile(self, percent: float) -> int: ...
    def count(self) -> int: ...
    def max(self) -> int: ...
    def mean(self) -> float: ...


class _HdrBackend:
    def __init__(self) -> None:
        from hdrh.histogram import HdrHistogram

        self._hdr = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)

    def record(self, micros: int) -> None:
        self._hdr.record_value(min(max(micros, LOWEST_US), HIGHEST_US))

    def percentile(self, percent: float) -> int:
        return int(self._hdr.get_value_at_percentile(percent))

    def count(self) -> int:
        return int(self._hdr.get_total_count())

    def max(self) -> int:
        return int(self._hdr.get_max_value())

    def mean(self) -> float:
        return float(self._hdr.get_mean_value())


class ExactBackend:
    """Nearest-rank percentiles over all values: the fallback, and the reference in tests."""

    def __init__(self) -> None:
        self._values: list[int] = []
        self._sorted = True

    def record(self, micros: int) -> None:
        self._values.append(micros)
        self._sorted = False

    def _ordered(self) -> list[int]:
        if not self._sorted:
            self._values.sort()
            self._sorted = True
        return self._values

    def percentile(self, percent: float) -> int:
        values = self._ordered()
        if not values:
            return 0
        rank = math.ceil(percent / 100 * len(values))
        return values[min(max(rank, 1), len(values)) - 1]

    def count(self) -> int:
        return len(self._values)

    def max(self) -> int:
        return max(self._values, default=0)

    def mean(self) -> float:
        return sum(self._values) / len(self._values) if self._values else 0.0


def hdr_available() -> bool:
    try:
        import hdrh.histogram  # noqa: F401
    except ImportError:
        return False
    return True


class LatencyHistogram:
    def __init__(self, exact: bool = False) -> None:
        self._backend: _Backend = ExactBackend() if exact or not hdr_available() else _HdrBackend()

    @property
    def kind(self) -> str:
        return "exact" if isinstance(self._backend, ExactBackend) else "hdr"

    def record(self, seconds: float) -> None:
        self._backend.record(round(seconds * 1_000_000))

    @property
    def count(self) -> int:
        return self._backend.count()

    def percentile_ms(self, percent: float) -> float:
        return self._backend.percentile(percent) / 1000

    def summary_ms(self) -> dict[str, float]:
        """p50, p95, p99, p99.9, mean and max in milliseconds (0 when empty)."""
        summary = {_label(p): round(self.percentile_ms(p), 3) for p in PERCENTILES}
        summary["mean"] = round(self._backend.mean() / 1000, 3)
        summary["max"] = round(self._backend.max() / 1000, 3)
        return summary


def _label(percent: float) -> str:
    return f"p{percent:g}"
