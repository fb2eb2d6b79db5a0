"""The wrk engine: the Lua script it writes for each scenario and flavour, its command
line and the parsing of its JSON line (run by the real wrk against a fake shop:
tests/integration/test_bench_wrk.py)."""

import json
from pathlib import Path

from microshop.bench.load import LoadPlan
from microshop.bench.scenarios import Flavour, Shop, pattern_of
from microshop.bench.wrk_engine import parse_wrk_output, wrk_command
from microshop.bench.wrk_script import lua_script, lua_string


def test_a_script_quotes_whatever_it_embeds() -> None:
    assert lua_string('a "quoted" \\ é') == '"a \\034quoted\\034 \\092 \\195\\169"'
    pattern = pattern_of(Shop("http://x", Flavour.MICROSHOP, ('t"1',)), "checkout")
    script = lua_script(pattern, "nonce", cap_per_thread=5)
    assert 'local tokens = {"t\\0341"}' in script
    assert '["Prefer"] = "wait=10"' in script
    assert 'local expect_order_status = "approved"' in script
    assert "local cap = 5" in script and "local fresh_idempotency_key = true" in script
    browse = lua_script(pattern_of(Shop("http://x", Flavour.SEED), "browse"), "n")
    assert "local body = nil" in browse and "local expect_order_status = nil" in browse


def test_a_wrk_command_is_bounded_and_names_its_script() -> None:
    command = wrk_command("wrk", LoadPlan(duration_s=2.5, concurrency=1), Path("s.lua"), "http://x")
    assert command == ["wrk", "-t1", "-c1", "-d3s", "--timeout", "10s", "-s", "s.lua", "http://x"]


def test_the_json_line_becomes_a_measured_run() -> None:
    line = {
        "engine": "wrk",
        "requests": 1200,
        "duration_us": 2_000_000,
        "ok": 1150,
        "statuses": {"201": 1190, "503": 10},
        "labels": {"503": 10, "201 pending": 40},
        "errors": {"connect": 0, "read": 2, "write": 0, "timeout": 3},
        "latency_us": {
            "p50": 1500,
            "p95": 4000,
            "p99": 9000,
            "p99.9": 12000,
            "mean": 1800.5,
            "max": 15000,
        },
    }
    stdout = "Running 2s test @ http://x\n  2 threads\n" + json.dumps(line) + "\n"
    measured = parse_wrk_output(stdout, "checkout", answers_cap=1200)
    assert (measured.ok, measured.errors, measured.measured_s) == (1150, 55, 2.0)
    assert measured.capped
    [kind] = measured.kinds
    assert kind.kind == "checkout" and kind.ok_per_s == 575.0
    assert kind.errors == {"201 pending": 40, "503": 10, "timeout": 3, "read error": 2}
    assert kind.latency_ms == {
        "p50": 1.5,
        "p95": 4.0,
        "p99": 9.0,
        "p99.9": 12.0,
        "mean": 1.8,
        "max": 15.0,
    }
    assert not parse_wrk_output(stdout, "checkout").capped
