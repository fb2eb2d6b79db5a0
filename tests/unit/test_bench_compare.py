"""The side-by-side comparison: where the chapter's system is found, its rows and ratios."""

import json
from pathlib import Path

import pytest

from microshop.bench import seed, shared_servers
from microshop.bench.comparison import Comparison
from microshop.bench.report import BenchResult, CpuReport, KindReport, MemoryReport, SagaReport
from microshop.bench.seed import SEED_ENV, find_seed_baseline, why_not_runnable


def result(
    scenario: str,
    ok_per_s: float,
    *,
    system: str = "microshop",
    p99: float = 5.0,
    errors: int = 0,
    sagas: SagaReport | None = None,
    up_s: float | None = None,
    rss_mib: float = 400.0,
    rate: float | None = None,
    cpu: CpuReport | None = None,
    memory: MemoryReport | None = None,
    engine: str = "wrk",
) -> BenchResult:
    """A made-up row: 20 s measured at `ok_per_s`."""
    latency = {"p50": 1.0, "p95": 2.0, "p99": p99, "p99.9": p99, "mean": 1.0, "max": p99}
    ok = int(ok_per_s * 20)
    return BenchResult(
        system=system,
        scenario=scenario,
        mode="closed" if rate is None else "open",
        concurrency=16 if rate is None else None,
        rate=rate,
        measured_s=20.0,
        warmup_s=3.0,
        ok=ok,
        ok_per_s=ok_per_s,
        errors=errors,
        kinds=[KindReport(scenario, ok, ok_per_s, {"503": errors} if errors else {}, latency)],
        rate_limit="off",
        histogram="wrk" if engine == "wrk" else "hdr",
        cpu=cpu or CpuReport(10.0, 0.5, 100.0, 1.0, 0.05),
        memory=memory or MemoryReport(rss_mib - 50, rss_mib, 9),
        up_s=up_s,
        sagas=sagas,
        capped=False,
        engine=engine,
    )


def test_every_row_goes_into_one_json_document() -> None:
    comparison = Comparison(
        seed={"order": result("order", 150, system="seed-baseline")},
        microshop={"order": result("order", 1000)},
        postgres={"order": result("order", 600, system="microshop (postgres)")},
        growth={"search": result("search", 900, system="microshop +100,000 products")},
        growth_products=100_000,
    )
    assert comparison.ratio(comparison.microshop["order"], "order") == 6.67
    assert [r.system for r in comparison.results()] == [
        "seed-baseline",
        "microshop",
        "microshop (postgres)",
        "microshop +100,000 products",
    ]
    document = json.loads(json.dumps(comparison.to_json()))
    assert document["microshop"]["order"]["kinds"][0]["latency_ms"]["p99"] == 5.0
    assert document["postgres"]["order"]["engine"] == "wrk"
    assert document["growth_products"] == 100_000


def test_without_the_chapters_system_there_are_no_ratios() -> None:
    comparison = Comparison(microshop={"order": result("order", 1000)}, seed_note="absent")
    assert comparison.ratio(comparison.microshop["order"], "order") is None


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


def test_the_chapters_processes_are_named_by_their_pid_files_and_the_shared_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = tmp_path / "run" / "pids"
    pids.mkdir(parents=True)
    for name, pid in {"order-service": 101, "nginx": 102, "rabbitmq": 300}.items():
        (pids / f"{name}.pid").write_text(f"{pid}\n")
    (pids / "rabbitmq.started-by-seed").touch()
    postgres_run, mnesia = tmp_path / "postgresql", tmp_path / "mnesia"
    postgres_run.mkdir()
    mnesia.mkdir()
    (postgres_run / "15-main.pid").write_text("200\n/var/lib/postgresql/15/main\n")
    (mnesia / "rabbit@localhost.pid").write_text("300")
    monkeypatch.setattr(seed, "postgres_root", lambda: shared_servers.postgres_root(postgres_run))
    monkeypatch.setattr(seed, "rabbitmq_root", lambda: shared_servers.rabbitmq_root(mnesia))
    system = seed.SeedSystem(tmp_path, "http://127.0.0.1:8080", 1.0)
    # RabbitMQ started by the chapter's start.sh keeps the name of its pid file
    assert system.processes() == {
        101: "order-service",
        102: "nginx",
        300: "rabbitmq",
        200: "postgres (shared)",
    }
