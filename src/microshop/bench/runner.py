"""One benchmark run against one system: prepare, warm up, load while sampling CPU,
memory and unfinished sagas, then wait for the sagas to drain."""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import aiohttp

from microshop.bench.histogram import hdr_available
from microshop.bench.load import LoadPlan, Recorder, new_session, run_load
from microshop.bench.prepare import prepare_microshop, seed_shop
from microshop.bench.probes import (
    ProcessGroup,
    SagaWatch,
    UsageWatch,
    machine_busy_s,
    own_cpu_s,
)
from microshop.bench.report import (
    BenchResult,
    MemoryReport,
    SagaReport,
    cpu_report,
    kind_reports,
    plan_fields,
)
from microshop.bench.scenarios import Flavour, Shop, check_scenario, kinds_of

# phase ("warm-up" or "measuring"), live counters, seconds elapsed, seconds planned
ProgressHook = Callable[[str, Recorder, float, float], None]
PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True)
class Target:
    """The system under test, as a run sees it."""

    name: str
    url: str
    flavour: Flavour
    pids: Callable[[], list[int]]
    rate_limit: str
    sagas_url: str | None = None
    up_s: float | None = None
    admin_password: str | None = None


@dataclass(frozen=True)
class RunOptions:
    scenario: str
    plan: LoadPlan
    warmup_s: float = 3.0
    users: int = 16
    checkout_wait_s: float = 10.0
    drain_s: float = 30.0


async def _shop(session: aiohttp.ClientSession, target: Target, options: RunOptions) -> Shop:
    if target.flavour is Flavour.SEED:
        return seed_shop(target.url)
    return await prepare_microshop(
        session, target.url, target.admin_password, options.users, options.checkout_wait_s
    )


async def _ticker(hook: ProgressHook, phase: str, recorder: Recorder, planned_s: float) -> None:
    began = asyncio.get_running_loop().time()
    while True:
        hook(phase, recorder, asyncio.get_running_loop().time() - began, planned_s)
        await asyncio.sleep(PROGRESS_EVERY_S)


async def _load_with_progress(
    session: aiohttp.ClientSession,
    shop: Shop,
    options: RunOptions,
    plan: LoadPlan,
    phase: str,
    progress: ProgressHook | None,
) -> tuple[Recorder, float, bool]:
    recorder = Recorder(kinds_of(options.scenario))
    ticker = (
        asyncio.create_task(_ticker(progress, phase, recorder, plan.duration_s))
        if progress
        else None
    )
    try:
        outcome = await run_load(session, shop, options.scenario, plan, recorder)
    finally:
        if ticker:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
    return recorder, outcome.measured_s, outcome.capped


async def run_benchmark(
    target: Target, options: RunOptions, progress: ProgressHook | None = None
) -> BenchResult:
    check_scenario(options.scenario, target.flavour)
    group = ProcessGroup(target.pids)
    control = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    async with new_session(options.plan) as session, control:
        shop = await _shop(session, target, options)
        at_rest, pss_at_rest = group.usage(), group.proportional_mib()
        if options.warmup_s > 0:
            warmup = replace(options.plan, duration_s=options.warmup_s)
            await _load_with_progress(session, shop, options, warmup, "warm-up", progress)
        sagas = SagaWatch(target.sagas_url) if target.sagas_url else None
        usage = UsageWatch(group)
        usage.sample()
        generator_before, machine_before = own_cpu_s(), machine_busy_s()
        watchers = [asyncio.create_task(usage.run())]
        if sagas:
            watchers.append(asyncio.create_task(sagas.run(control)))
        try:
            recorder, measured_s, capped = await _load_with_progress(
                session, shop, options, options.plan, "measuring", progress
            )
        finally:
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
        usage.sample()
        generator_s = own_cpu_s() - generator_before
        pss_under_load = group.proportional_mib()
        machine_s = machine_busy_s() - machine_before
        saga_report = await _saga_report(sagas, control, options.drain_s) if sagas else None
    return BenchResult(
        system=target.name,
        scenario=options.scenario,
        **plan_fields(options.plan),
        measured_s=round(measured_s, 2),
        warmup_s=options.warmup_s,
        ok=recorder.ok,
        ok_per_s=round(recorder.ok / measured_s, 1) if measured_s > 0 else 0.0,
        errors=recorder.failed,
        kinds=kind_reports(recorder.kinds, measured_s),
        rate_limit=target.rate_limit,
        histogram="hdr" if hdr_available() else "exact",
        cpu=cpu_report(usage.cpu_s, generator_s, machine_s, measured_s, recorder.ok),
        memory=MemoryReport(
            round(at_rest.rss_mib, 1),
            round(usage.peak_rss_bytes / 2**20, 1),
            usage.last.processes if usage.last else 0,
            round(pss_at_rest, 1) or None,
            round(pss_under_load, 1) or None,
        )
        if at_rest.processes
        else None,
        up_s=round(target.up_s, 2) if target.up_s is not None else None,
        sagas=saga_report,
        capped=capped,
    )


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
