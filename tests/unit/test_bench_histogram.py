"""The benchmark's latency percentiles."""

import random

import pytest

from microshop.bench.histogram import ExactBackend, LatencyHistogram


def test_exact_percentiles_are_nearest_rank() -> None:
    exact = ExactBackend()
    for micros in range(1, 101):
        exact.record(micros)
    assert [exact.percentile(p) for p in (50, 95, 99, 99.9, 100)] == [50, 95, 99, 100, 100]


def test_the_hdr_histogram_agrees_with_exact_percentiles_within_its_precision() -> None:
    hdr, exact = LatencyHistogram(), LatencyHistogram(exact=True)
    assert hdr.kind == "hdr"
    rng = random.Random(7)
    for _ in range(20_000):
        seconds = rng.lognormvariate(-5, 1)  # ~7 ms median, a long tail
        hdr.record(seconds)
        exact.record(seconds)
    for percent in (50.0, 95.0, 99.0, 99.9):
        assert hdr.percentile_ms(percent) == pytest.approx(exact.percentile_ms(percent), rel=2e-3)
    assert hdr.count == exact.count == 20_000


def test_a_summary_is_in_milliseconds_and_zero_when_nothing_was_recorded() -> None:
    latencies = LatencyHistogram(exact=True)
    assert latencies.summary_ms() == {
        "p50": 0.0,
        "p95": 0.0,
        "p99": 0.0,
        "p99.9": 0.0,
        "mean": 0.0,
        "max": 0.0,
    }
    latencies.record(0.0042)
    assert latencies.summary_ms()["p99"] == 4.2
    assert latencies.summary_ms()["max"] == 4.2
