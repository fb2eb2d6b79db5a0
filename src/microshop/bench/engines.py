"""The load engines and which one a run uses.

    wrk      closed loop, the default where `wrk` is on PATH: a C client that leaves
             the cores to the system under test (wrk_engine.py)
    aiohttp  the Python client (load.py): every open-loop run (wrk has no rate
             control, and load.py's schedule has no coordinated omission), `mixed`
             (wrk's one latency histogram cannot tell browse from order), and closed
             loops where wrk is missing or --engine aiohttp asks for it

Both answer a run with a Measured: counts and latencies per request kind.
"""

import asyncio
import contextlib
import shutil
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from microshop.bench.load import InvalidPlan, LoadPlan, Recorder, new_session, run_load
from microshop.bench.measured import Measured, Tick
from microshop.bench.report import kind_reports
from microshop.bench.scenarios import Shop, kinds_of
from microshop.bench.wrk_engine import WrkEngine

ENGINES = ("wrk", "aiohttp")
TICK_EVERY_S = 0.5


@dataclass(frozen=True)
class EngineChoice:
    name: str
    # Why this engine and not the default one, for the report; None when nothing to say.
    note: str | None = None


class Engine(Protocol):
    name: str

    async def run(
        self, shop: Shop, scenario: str, plan: LoadPlan, tick: Tick | None
    ) -> Measured: ...

    async def close(self) -> None: ...


def choose_engine(requested: str | None, plan: LoadPlan, scenario: str) -> EngineChoice:
    """The engine for one run: `requested` (None: the default) where it can do the run."""
    if requested is not None and requested not in ENGINES:
        raise InvalidPlan(f"unknown engine {requested!r} (one of {', '.join(ENGINES)})")
    if plan.rate is not None:
        return EngineChoice("aiohttp", "open loop: wrk has no rate control")
    if scenario == "mixed":
        return EngineChoice("aiohttp", "mixed: wrk cannot tell the kinds' latencies apart")
    if requested == "aiohttp":
        return EngineChoice("aiohttp")
    if shutil.which("wrk") is not None:
        return EngineChoice("wrk")
    if requested == "wrk":
        raise InvalidPlan("wrk is not on PATH (apt-get install wrk), or use --engine aiohttp")
    return EngineChoice(
        "aiohttp", "wrk is not on PATH: a Python client, whose own CPU competes with the system's"
    )


class AiohttpEngine:
    """load.py's loops on one connection pool, kept from the warm-up to the measured run."""

    name = "aiohttp"

    def __init__(self, plan: LoadPlan) -> None:
        self._plan = plan
        self._session: aiohttp.ClientSession | None = None

    async def run(self, shop: Shop, scenario: str, plan: LoadPlan, tick: Tick | None) -> Measured:
        self._session = self._session or new_session(self._plan)
        recorder = Recorder(kinds_of(scenario))
        ticker = asyncio.create_task(_ticker(tick, recorder, plan.duration_s)) if tick else None
        try:
            outcome = await run_load(self._session, shop, scenario, plan, recorder)
        finally:
            if ticker:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
        return Measured(
            kind_reports(recorder.kinds, outcome.measured_s),
            recorder.ok,
            recorder.failed,
            outcome.measured_s,
            outcome.capped,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def _ticker(tick: Tick, recorder: Recorder, planned_s: float) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    while True:
        tick(recorder, loop.time() - began, planned_s)
        await asyncio.sleep(TICK_EVERY_S)


def open_engine(choice: EngineChoice, plan: LoadPlan) -> Engine:
    if choice.name == "wrk":
        wrk = shutil.which("wrk")
        if wrk is None:
            raise InvalidPlan("wrk is not on PATH (apt-get install wrk)")
        return WrkEngine(wrk)
    return AiohttpEngine(plan)
