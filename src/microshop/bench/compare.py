"""Side by side: the chapter's system, then microshop, the same scenarios against each,
one system running at a time. Then, when asked: microshop's rows with a grown catalog
(--products N, on the same system), microshop again on PostgreSQL (--db postgres), and
its order row with tracing off and with every order traced (--tracing).
The targets: targets.py."""

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from microshop.bench.comparison import Comparison
from microshop.bench.growth import grow_catalog
from microshop.bench.load import LoadPlan
from microshop.bench.microshop_system import MicroshopSystem, SystemFailed, started_microshop
from microshop.bench.postgres import PostgresFailed, bench_databases
from microshop.bench.prepare import PreparationFailed
from microshop.bench.report import BenchResult
from microshop.bench.runner import RunOptions, Target, run_benchmark
from microshop.bench.scenarios import Flavour
from microshop.bench.seed import find_seed_baseline, started_seed, why_not_runnable
from microshop.bench.wrk_engine import WrkFailed

# The chapter's numbers in docs/performance.md were taken at these concurrencies.
DEFAULT_CONCURRENCY = {"order": 16, "browse": 32, "checkout": 16, "mixed": 32, "search": 8}
# With a grown catalog: reads at c=8, where their latency is the target; orders as before.
GROWN_CONCURRENCY = {"browse": 8, "search": 8, "order": 16}
SEED_RATE_LIMIT = "none (the chapter's nginx config has no limit_req)"
# What an optional phase may fail with, and the comparison still print its other rows.
PHASE_FAILURES = (SystemFailed, PreparationFailed, PostgresFailed, WrkFailed, OSError)

Say = Callable[[str], None]
ProgressFor = Callable[[str], Any]  # title -> context manager yielding a ProgressHook


@dataclass(frozen=True)
class CompareOptions:
    scenarios: tuple[str, ...] = ("order", "browse")
    duration_s: float = 25.0
    warmup_s: float = 3.0
    checkout: bool = True
    half_rate: bool = True
    users: int = 16
    engine: str | None = None
    db: str = "sqlite"
    products: int | None = None
    tracing: bool = True


def _options(
    scenario: str, options: CompareOptions, concurrency: int | None = None, **plan: Any
) -> RunOptions:
    timeout = 20.0 if scenario == "checkout" else 10.0
    return RunOptions(
        scenario,
        LoadPlan(
            duration_s=options.duration_s,
            concurrency=concurrency or DEFAULT_CONCURRENCY[scenario],
            timeout_s=timeout,
            **plan,
        ),
        warmup_s=options.warmup_s,
        users=options.users,
        engine=options.engine,
    )


def _run(target: Target, options: RunOptions, progress_for: ProgressFor, title: str) -> BenchResult:
    with progress_for(title) as hook:
        return asyncio.run(run_benchmark(target, options, hook))


def _run_seed(
    comparison: Comparison, options: CompareOptions, say: Say, progress_for: ProgressFor, log: Path
) -> None:
    seed_dir = find_seed_baseline()
    if seed_dir is None:
        comparison.seed_note = "the chapter's system (../shared/bench/seed-baseline or $MICROSHOP_SEED_BASELINE) is absent here: measuring microshop alone"
    elif reason := why_not_runnable(seed_dir):
        comparison.seed_note = (
            f"the chapter's system cannot run here ({reason}): measuring microshop alone"
        )
    if comparison.seed_note or seed_dir is None:
        say(comparison.seed_note or "")
        return
    say(f"starting the chapter's system from {seed_dir} (log: {log})")
    with started_seed(seed_dir, log) as seed:
        target = Target(
            "seed-baseline", seed.url, Flavour.SEED, seed.processes, SEED_RATE_LIMIT, up_s=seed.up_s
        )
        for scenario in options.scenarios:
            if scenario in ("checkout", "search"):
                continue
            run = _options(scenario, options)
            comparison.seed[scenario] = _run(target, run, progress_for, f"seed {scenario}")
    say("stopped the chapter's system")


def microshop_target(system: MicroshopSystem, name: str = "microshop") -> Target:
    return Target(
        name,
        system.url,
        Flavour.MICROSHOP,
        system.processes,
        system.rate_limit,
        system.sagas_url(),
        system.up_s,
        system.admin_password,
        system.sagas_headers(),
    )


def _grow(
    comparison: Comparison,
    target: Target,
    options: CompareOptions,
    say: Say,
    progress_for: ProgressFor,
) -> None:
    count = options.products or 0
    say(f"importing {count:,} products (POST /api/products/import, 1,000 a request)")
    took = asyncio.run(grow_catalog(target.url, target.admin_password, count))
    say(f"imported {count:,} products in {took:.1f} s")
    comparison.growth_products = count
    grown = replace(target, name=f"microshop +{count:,} products")
    for scenario, concurrency in GROWN_CONCURRENCY.items():
        run = _options(scenario, options, concurrency)
        comparison.growth[scenario] = _run(grown, run, progress_for, f"{grown.name} {scenario}")


def _run_microshop(
    comparison: Comparison, options: CompareOptions, say: Say, progress_for: ProgressFor
) -> None:
    with tempfile.TemporaryDirectory(prefix="microshop-bench-") as work:
        say("starting microshop (microshop up --detach, MICROSHOP_RATE_LIMIT=off)")
        with started_microshop(Path(work) / "data") as system:
            target = microshop_target(system)
            checkout = ["checkout"] if options.checkout else []
            for scenario in dict.fromkeys([*options.scenarios, *checkout]):
                run = _options(scenario, options)
                comparison.microshop[scenario] = _run(
                    target, run, progress_for, f"microshop {scenario}"
                )
            order = comparison.microshop.get("order")
            if options.half_rate and order and order.ok_per_s > 0:
                rate = round(order.ok_per_s / 2, 1)
                run = _options("order", options, rate=rate)
                title = f"microshop order at {rate:g}/s"
                comparison.microshop["order@half"] = _run(target, run, progress_for, title)
            if options.products:
                try:
                    _grow(comparison, target, options, say, progress_for)
                except PHASE_FAILURES as exc:
                    comparison.notes.append(f"the grown catalog was not measured: {exc}")
        say("stopped microshop")


def _run_on_postgres(
    comparison: Comparison, options: CompareOptions, say: Say, progress_for: ProgressFor
) -> None:
    say("starting microshop on PostgreSQL (a fresh database per service)")
    try:
        with (
            bench_databases() as databases,
            tempfile.TemporaryDirectory(prefix="microshop-bench-") as work,
            started_microshop(Path(work) / "data", databases) as system,
        ):
            target = microshop_target(system, "microshop (postgres)")
            run = _options("order", options)
            comparison.postgres["order"] = _run(target, run, progress_for, f"{target.name} order")
    except PHASE_FAILURES as exc:
        comparison.notes.append(f"microshop on PostgreSQL was not measured: {exc}")
    say("stopped microshop on PostgreSQL; dropped its databases")


TRACED_NAMES = {"off": "microshop (tracing off)", "all": "microshop (every order traced)"}


def _run_traced(
    comparison: Comparison, options: CompareOptions, say: Say, progress_for: ProgressFor
) -> None:
    """The order row on a fresh system with no span recorded, then on one that traces
    every request and event: what tracing costs at full load."""
    for tracing, name in TRACED_NAMES.items():
        say(f"starting microshop with MICROSHOP_TRACING for {name!r}")
        try:
            with (
                tempfile.TemporaryDirectory(prefix="microshop-bench-") as work,
                started_microshop(Path(work) / "data", tracing=tracing) as system,
            ):
                target = microshop_target(system, name)
                run = _options("order", options)
                comparison.tracing[tracing] = _run(target, run, progress_for, f"{name} order")
        except PHASE_FAILURES as exc:
            comparison.notes.append(f"{name} was not measured: {exc}")


def run_comparison(
    options: CompareOptions, say: Say, progress_for: ProgressFor, log: Path
) -> Comparison:
    comparison = Comparison()
    _run_seed(comparison, options, say, progress_for, log)
    _run_microshop(comparison, options, say, progress_for)
    if options.db == "postgres":
        _run_on_postgres(comparison, options, say, progress_for)
    if options.tracing:
        _run_traced(comparison, options, say, progress_for)
    return comparison
