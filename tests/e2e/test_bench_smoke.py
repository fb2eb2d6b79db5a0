"""`microshop bench` end to end: a tiny, slow run that starts its own system, loads it
and reports sane numbers. Never a timed test: throughput targets live in the benchmark."""

import json
import shutil
import subprocess
import sys
import time
from typing import Any

import psutil
import pytest

from tests.e2e.system import clean_env

pytestmark = pytest.mark.timeout(150)

RATE = 20.0
DURATION_S = 3.0


def bench(*args: str) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "microshop", "bench", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=140,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last_line = done.stdout.strip().splitlines()[-1]
    return json.loads(last_line), done.stdout


def started_by_bench_since(moment: float) -> list[int]:
    found = []
    for process in psutil.process_iter(["cmdline", "create_time"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "microshop-bench-" in cmdline and process.info["create_time"] >= moment:
            found.append(process.pid)
    return found


def test_a_short_mixed_run_reports_sane_numbers_and_no_errors() -> None:
    began = time.time()
    result, text = bench(
        "--scenario",
        "mixed",
        "--rate",
        f"{RATE:g}",
        "--duration",
        f"{DURATION_S:g}",
        "--warmup",
        "1",
        "--users",
        "2",
        "--drain",
        "20",
    )
    assert (result["scenario"], result["mode"], result["rate"]) == ("mixed", "open", RATE)
    assert result["errors"] == 0, result["kinds"]
    # An open loop at 20 requests/s for 3 s sends 60: all of them answered.
    assert result["ok"] == RATE * DURATION_S
    assert 0.5 * RATE <= result["ok_per_s"] <= 1.1 * RATE
    kinds = {kind["kind"]: kind for kind in result["kinds"]}
    assert set(kinds) == {"browse", "order"}
    assert kinds["browse"]["ok"] == 4 * kinds["order"]["ok"]
    for kind in kinds.values():
        latency = kind["latency_ms"]
        assert 0 < latency["p50"] <= latency["p99"] <= latency["max"] < 10_000
    assert result["rate_limit"].startswith("off")
    assert 0 < result["up_s"] < 120
    assert result["memory"]["processes"] >= 8
    assert 50 < result["memory"]["rss_mib_at_rest"] <= result["memory"]["rss_mib_under_load"]
    assert result["cpu"]["system_s"] > 0 and result["cpu"]["generator_s"] > 0
    assert result["sagas"]["drained_after_s"] is not None, result["sagas"]
    assert "microshop bench" in text and "p99.9" in text
    assert started_by_bench_since(began) == [], "the bench left its system running"


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_a_short_closed_loop_on_wrk_reports_cpu_per_process() -> None:
    began = time.time()
    result, text = bench(
        "--scenario",
        "order",
        "--concurrency",
        "4",
        "--duration",
        "2",
        "--warmup",
        "1",
        "--users",
        "2",
        "--drain",
        "20",
    )
    assert (result["engine"], result["histogram"], result["mode"]) == ("wrk", "wrk", "closed")
    assert result["errors"] == 0, result["kinds"]
    assert result["ok"] > 0
    latency = result["kinds"][0]["latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["p99.9"] <= latency["max"] < 10_000
    processes = {process["name"]: process for process in result["cpu"]["processes"]}
    assert {"supervisor", "gateway", "orders", "users", "catalog"} <= set(processes)
    assert processes["orders"]["cpu_s"] > 0
    assert sum(p["cpu_s"] for p in processes.values()) == pytest.approx(
        result["cpu"]["system_s"], abs=0.02
    )
    assert result["sagas"]["drained_after_s"] is not None, result["sagas"]
    assert "CPU: microshop order c=4" in text and "load generator (wrk)" in text
    assert started_by_bench_since(began) == [], "the bench left its system running"
