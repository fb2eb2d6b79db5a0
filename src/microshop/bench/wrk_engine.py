"""The wrk engine: closed-loop load from wrk (C, epoll), which needs a fraction of the
CPU that a Python client does, so on a 2-core machine the system under test keeps the
cores. One run = one wrk process with a Lua script written for it (wrk_script.py);
its JSON line becomes the same Measured as the aiohttp engine's.

    wrk -t2 -c<concurrency> -d<seconds>s --timeout <seconds>s -s <script> <url>
"""

import asyncio
import json
import math
import secrets
import tempfile
from pathlib import Path
from typing import Any

from microshop.bench.load import LoadPlan
from microshop.bench.measured import Measured, Tick
from microshop.bench.report import KindReport
from microshop.bench.scenarios import Shop, pattern_of
from microshop.bench.wrk_script import lua_script

THREADS = 2
# wrk's own bound on top of -d: it never runs longer, but a hung wrk is killed.
GRACE_S = 30.0
TICK_EVERY_S = 0.5
SOCKET_ERRORS = {
    "connect": "connect error",
    "read": "read error",
    "write": "write error",
    "timeout": "timeout",
}
LATENCY_KEYS = ("p50", "p95", "p99", "p99.9", "mean", "max")


class WrkFailed(RuntimeError):
    pass


def wrk_seconds(seconds: float) -> int:
    """wrk takes whole seconds."""
    return max(1, math.ceil(seconds))


def wrk_threads(plan: LoadPlan) -> int:
    return min(THREADS, plan.concurrency)  # wrk wants a connection per thread at least


def wrk_command(wrk: str, plan: LoadPlan, script: Path, url: str) -> list[str]:
    return [
        wrk,
        f"-t{wrk_threads(plan)}",
        f"-c{plan.concurrency}",
        f"-d{wrk_seconds(plan.duration_s)}s",
        "--timeout",
        f"{wrk_seconds(plan.timeout_s)}s",
        "-s",
        str(script),
        url,
    ]


def cap_per_thread(plan: LoadPlan) -> int:
    return -(-plan.max_requests // wrk_threads(plan))


def parse_wrk_output(stdout: str, kind: str, answers_cap: int = 0) -> Measured:
    """The JSON line that the script's done() printed, as a Measured; capped when the
    threads stopped at `answers_cap` answers in all (0: no cap)."""
    line = next((ln for ln in reversed(stdout.splitlines()) if ln.startswith('{"engine"')), None)
    if line is None:
        raise WrkFailed(f"wrk printed no result line:\n{stdout[-2000:]}")
    data: dict[str, Any] = json.loads(line)
    measured_s = data["duration_us"] / 1e6
    errors: dict[str, int] = {label: int(n) for label, n in data["labels"].items()}
    for key, label in SOCKET_ERRORS.items():
        if count := int(data["errors"][key]):
            errors[label] = errors.get(label, 0) + count
    errors = dict(sorted(errors.items(), key=lambda item: -item[1]))
    ok = int(data["ok"])
    latency = {key: round(float(data["latency_us"][key]) / 1000, 3) for key in LATENCY_KEYS}
    kind_report = KindReport(
        kind, ok, round(ok / measured_s, 1) if measured_s > 0 else 0.0, errors, latency
    )
    capped = answers_cap > 0 and int(data["requests"]) >= answers_cap
    return Measured([kind_report], ok, sum(errors.values()), measured_s, capped)


class WrkEngine:
    name = "wrk"

    def __init__(self, wrk: str) -> None:
        self._wrk = wrk

    async def run(self, shop: Shop, scenario: str, plan: LoadPlan, tick: Tick | None) -> Measured:
        pattern = pattern_of(shop, scenario)
        cap = cap_per_thread(plan)
        with tempfile.TemporaryDirectory(prefix="microshop-bench-wrk-") as work:
            script = Path(work) / f"{scenario}.lua"
            script.write_text(lua_script(pattern, secrets.token_hex(8), cap))
            url = shop.url + pattern.paths[0]
            stdout = await self._wrk_run(wrk_command(self._wrk, plan, script, url), plan, tick)
        return parse_wrk_output(stdout, scenario, cap * wrk_threads(plan))

    async def _wrk_run(self, command: list[str], plan: LoadPlan, tick: Tick | None) -> str:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        planned = wrk_seconds(plan.duration_s)
        output = asyncio.ensure_future(process.communicate())
        began = asyncio.get_running_loop().time()
        try:
            while not output.done():
                elapsed = asyncio.get_running_loop().time() - began
                if elapsed > planned + GRACE_S:
                    raise WrkFailed(f"wrk ran past {planned + GRACE_S:g} s")
                if tick:
                    tick(None, elapsed, planned)
                await asyncio.wait([output], timeout=TICK_EVERY_S)
        finally:
            if process.returncode is None:
                process.kill()
            stdout, stderr = await output
        if process.returncode != 0:
            raise WrkFailed(f"wrk failed (exit {process.returncode}): {stderr.decode()[-2000:]}")
        return stdout.decode()

    async def close(self) -> None:
        return None
