"""The side-by-side comparison: where the chapter's system is found, ratios, targets."""

import json
from pathlib import Path

import pytest

from microshop.bench.compare import Comparison, sagas_kept_up
from microshop.bench.report import BenchResult, CpuReport, KindReport, MemoryReport, SagaReport
from microshop.bench.seed import SEED_ENV, find_seed_baseline, why_not_runnable


def result(
    scenario: str,
    ok_per_s: float,
    *,
    system: str = "microshop",
    p99: float = 5.0,
    sagas: SagaReport | None = None,
    up_s: float | None = None,
    rss_mib: float = 400.0,
) -> BenchResult:
    latency = {"p50": 1.0, "p95": 2.0, "p99": p99, "p99.9": p99, "mean": 1.0, "max": p99}
    return BenchResult(
        system=system,
        scenario=scenario,
        mode="closed",
        concurrency=16,
        rate=None,
        measured_s=20.0,
        warmup_s=3.0,
        ok=int(ok_per_s * 20),
        ok_per_s=ok_per_s,
        errors=0,
        kinds=[KindReport(scenario, int(ok_per_s * 20), ok_per_s, {}, latency)],
        rate_limit="off",
        histogram="hdr",
        cpu=CpuReport(10.0, 0.5, 100.0, 1.0, 0.05),
        memory=MemoryReport(rss_mib - 50, rss_mib, 9),
        up_s=up_s,
        sagas=sagas,
        capped=False,
    )


def test_ratios_and_targets_come_from_the_same_comparison_run() -> None:
    comparison = Comparison(
        seed={
            "order": result("order", 150, system="seed-baseline"),
            "browse": result("browse", 1800, system="seed-baseline"),
        },
        microshop={
            "order": result(
                "order", 1000, up_s=6.0, sagas=SagaReport(0, 3, 40, [(0.1, 0), (20, 3)], 1.5)
            ),
            "browse": result("browse", 9000, rss_mib=1100),
            "checkout": result("checkout", 500),
            "order@half": result("order", 500, p99=12.0),
        },
    )
    assert comparison.ratio("order", "order") == 6.67
    targets = {text: (measured, met) for text, measured, met in comparison.targets()}
    assert targets["order >= 6x the chapter's orders/s"] == ("6.67x", True)
    assert targets["checkout sagas/s >= 3x the chapter's orders/s"] == ("3.33x", True)
    assert targets["browse >= 8x the chapter's product-list rate"] == ("5.00x", False)
    assert targets["sagas keep up with orders"] == (
        "+3 unfinished after the first 5 s (1 s of orders: 1000), all done 1.5 s after",
        True,
    )
    assert targets["order p99 at half the max rate <= 15 ms"] == ("12.0 ms", True)
    assert targets["up to all-healthy <= 10 s"] == ("6.0 s", True)
    assert targets["whole-system RSS < 1 GiB"] == ("1,100 MiB", False)
    document = json.loads(json.dumps(comparison.to_json()))
    assert document["microshop"]["order"]["kinds"][0]["latency_ms"]["p99"] == 5.0


def test_sagas_keep_up_when_their_backlog_stops_growing_after_the_ramp_up() -> None:
    def order(samples: list[tuple[float, int]], drained: float | None) -> BenchResult:
        counts = [count for _, count in samples]
        report = SagaReport(counts[0], counts[-1], max(counts), samples, drained)
        return result("order", 10, sagas=report)

    steady = order([(0.2, 0), (5.5, 57), (11.1, 67), (17.0, 63), (27.4, 52)], 2.3)
    assert sagas_kept_up(steady) == (
        "-5 unfinished after the first 5 s (1 s of orders: 10), all done 2.3 s after",
        True,
    )
    growing = order([(0.2, 0), (5.5, 20), (11.1, 40), (27.4, 90)], 9.0)
    assert sagas_kept_up(growing)[1] is False
    stuck = order([(0.2, 0), (27.4, 2)], None)
    assert sagas_kept_up(stuck) == (
        "+2 unfinished after the first 5 s (1 s of orders: 10), not all done after",
        False,
    )


def test_without_the_chapters_system_there_are_no_ratios() -> None:
    comparison = Comparison(microshop={"order": result("order", 1000)}, seed_note="absent")
    assert comparison.ratio("order", "order") is None
    assert all("chapter" not in text for text, _, _ in comparison.targets())


def test_the_chapters_system_is_found_beside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SEED_ENV, raising=False)
    seed = tmp_path / "shared" / "bench" / "seed-baseline"
    assert find_seed_baseline(tmp_path / "repo") is None
    seed.mkdir(parents=True)
    (seed / "start.sh").write_text("#!/bin/sh\n")
    assert find_seed_baseline(tmp_path / "repo") == seed.resolve()


def test_an_environment_variable_points_at_the_chapters_system_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SEED_ENV, str(tmp_path))
    assert find_seed_baseline(Path("/nowhere")) is None
    (tmp_path / "start.sh").write_text("#!/bin/sh\n")
    assert find_seed_baseline(Path("/nowhere")) == tmp_path.resolve()


def test_a_seed_that_was_never_set_up_says_how_to_set_it_up(tmp_path: Path) -> None:
    reason = why_not_runnable(tmp_path)
    assert reason is not None and "setup.sh" in reason
