"""One benchmark run against one system: prepare, warm up (a separate, unmeasured run
of the same engine), load while sampling each process's CPU and memory and the
unfinished sagas, then wait for the sagas to drain."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import aiohttp

from microshop.bench.engines import Engine, choose_engine, open_engine
from microshop.bench.histogram import hdr_available
from microshop.bench.load import LoadPlan, Recorder
from microshop.bench.measured import Measured, Tick
from microshop.bench.prepare import prepare_microshop, seed_shop
from microshop.bench.probes import SagaWatch, generator_cpu_s, machine_busy_s
from microshop.bench.process_cpu import Memory, ProcessWatch
from microshop.bench.report import (
    BenchResult,
    MemoryReport,
    SagaReport,
    cpu_report,
    plan_fields,
    process_rows,
)
from microshop.bench.scenarios import Flavour, Shop, check_scenario

# phase ("warm-up" or "measuring"), live counters (None with wrk), seconds elapsed, planned
ProgressHook = Callable[[str, Recorder | None, float, float], None]
CONTROL_TIMEOUT_S = 30.0
MIB = 2**20


@dataclass(frozen=True)
class Target:
    """The system under test, as a run sees it."""

    name: str
    url: str
    flavour: Flavour
    # root pid -> process name, looked up again during the run
    processes: Callable[[], dict[int, str]]
    rate_limit: str
    sagas_url: str | None = None
    up_s: float | None = None
    admin_password: str | None = None
    # The operator credential /internal/sagas asks for (chassis/service_auth.py).
    sagas_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOptions:
    scenario: str
    plan: LoadPlan
    warmup_s: float = 3.0
    users: int = 16
    checkout_wait_s: float = 10.0
    drain_s: float = 30.0
    # "wrk", "aiohttp" or None: the default (engines.choose_engine)
    engine: str | None = None


async def _shop(session: aiohttp.ClientSession, target: Target, options: RunOptions) -> Shop:
    if target.flavour is Flavour.SEED:
        return seed_shop(target.url)
    return await prepare_microshop(
        session, target.url, target.admin_password, options.users, options.checkout_wait_s
    )


def _tick(progress: ProgressHook | None, phase: str) -> Tick | None:
    if progress is None:
        return None
    return lambda recorder, elapsed, planned: progress(phase, recorder, elapsed, planned)


async def _measure(
    engine: Engine,
    shop: Shop,
    options: RunOptions,
    watch: ProcessWatch,
    sagas: SagaWatch | None,
    control: aiohttp.ClientSession,
    progress: ProgressHook | None,
) -> Measured:
    """The measured load, with the process and saga samplers running beside it."""
    watch.begin()
    watchers = [asyncio.create_task(watch.run())]
    if sagas:
        watchers.append(asyncio.create_task(sagas.run(control)))
    try:
        return await engine.run(shop, options.scenario, options.plan, _tick(progress, "measuring"))
    finally:
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        watch.end()


async def run_benchmark(
    target: Target, options: RunOptions, progress: ProgressHook | None = None
) -> BenchResult:
    check_scenario(options.scenario, target.flavour)
    choice = choose_engine(options.engine, options.plan, options.scenario)
    watch = ProcessWatch(target.processes)
    engine = open_engine(choice, options.plan)
    timeout = aiohttp.ClientTimeout(total=CONTROL_TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as control:
            shop = await _shop(control, target, options)
            at_rest = watch.memory()
            if options.warmup_s > 0:
                warmup = replace(options.plan, duration_s=options.warmup_s)
                await engine.run(shop, options.scenario, warmup, _tick(progress, "warm-up"))
            sagas = SagaWatch(target.sagas_url, target.sagas_headers) if target.sagas_url else None
            generator_before, machine_before = generator_cpu_s(), machine_busy_s()
            measured = await _measure(engine, shop, options, watch, sagas, control, progress)
            generator_s = generator_cpu_s() - generator_before
            machine_s = machine_busy_s() - machine_before
            under_load = watch.memory()
            saga_report = await _saga_report(sagas, control, options.drain_s) if sagas else None
    finally:
        await engine.close()
    rows = process_rows(watch.cpu_by_name(), watch.rss_by_name, measured.measured_s, measured.ok)
    return BenchResult(
        system=target.name,
        scenario=options.scenario,
        **plan_fields(options.plan),
        measured_s=round(measured.measured_s, 2),
        warmup_s=options.warmup_s,
        ok=measured.ok,
        ok_per_s=round(measured.ok / measured.measured_s, 1) if measured.measured_s > 0 else 0.0,
        errors=measured.errors,
        kinds=measured.kinds,
        rate_limit=target.rate_limit,
        histogram="wrk" if choice.name == "wrk" else ("hdr" if hdr_available() else "exact"),
        cpu=cpu_report(rows, generator_s, machine_s, measured.measured_s, measured.ok),
        memory=_memory_report(watch, at_rest, under_load),
        up_s=round(target.up_s, 2) if target.up_s is not None else None,
        sagas=saga_report,
        capped=measured.capped,
        engine=choice.name,
        engine_note=choice.note,
    )


def _memory_report(watch: ProcessWatch, at_rest: Memory, after: Memory) -> MemoryReport | None:
    """RSS at rest and at its peak in the window; PSS at rest and right after it."""
    if not at_rest.processes:
        return None
    return MemoryReport(
        round(at_rest.rss_bytes / MIB, 1),
        round(max(watch.peak_rss_bytes, at_rest.rss_bytes) / MIB, 1),
        watch.processes,
        round(at_rest.pss_bytes / MIB, 1) or None,
        round(after.pss_bytes / MIB, 1) or None,
        _mib(at_rest.resident_bytes),
        _mib(after.resident_bytes),
    )


def _mib(size: int | None) -> float | None:
    return None if size is None else round(size / MIB, 1)


async def _saga_report(
    sagas: SagaWatch, session: aiohttp.ClientSession, drain_s: float
) -> SagaReport:
    await sagas.sample(session)
    counts = [count for _, count in sagas.samples]
    drained = await sagas.drain(session, drain_s)
    return SagaReport(
        at_start=counts[0] if counts else None,
        at_end=counts[-1] if counts else None,
        peak=max(counts) if counts else None,
        samples=sagas.samples,
        drained_after_s=drained,
    )
