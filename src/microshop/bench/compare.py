"""Side by side: the chapter's system, then microshop, the same scenarios against each,
one system running at a time; then the ratios and the issue's targets."""

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microshop.bench.load import LoadPlan
from microshop.bench.microshop_system import started_microshop
from microshop.bench.report import BenchResult
from microshop.bench.runner import ProgressHook, RunOptions, Target, run_benchmark
from microshop.bench.scenarios import Flavour
from microshop.bench.seed import find_seed_baseline, started_seed, why_not_runnable

# The chapter's numbers in docs/performance.md were taken at these concurrencies.
DEFAULT_CONCURRENCY = {"order": 16, "browse": 32, "checkout": 16, "mixed": 32}
RAMP_UP_S = 5.0
SEED_RATE_LIMIT = "none (the chapter's nginx config has no limit_req)"

Say = Callable[[str], None]
ProgressFor = Callable[[str], Any]  # title -> context manager yielding a ProgressHook


@dataclass
class Comparison:
    seed: dict[str, BenchResult] = field(default_factory=dict)
    microshop: dict[str, BenchResult] = field(default_factory=dict)
    seed_note: str | None = None

    def ratio(self, ours: str, theirs: str) -> float | None:
        if ours not in self.microshop or theirs not in self.seed:
            return None
        base = self.seed[theirs].ok_per_s
        return round(self.microshop[ours].ok_per_s / base, 2) if base else None

    def targets(self) -> list[tuple[str, str, bool | None]]:
        """(target, measured, met) for each of the issue's targets that was measured."""
        found: list[tuple[str, str, bool | None]] = []

        def ratio_target(text: str, ours: str, theirs: str, goal: float) -> None:
            value = self.ratio(ours, theirs)
            if value is not None:
                found.append((text, f"{value:.2f}x", value >= goal))

        ratio_target("order >= 6x the chapter's orders/s", "order", "order", 6)
        ratio_target("checkout sagas/s >= 3x the chapter's orders/s", "checkout", "order", 3)
        ratio_target("browse >= 8x the chapter's product-list rate", "browse", "browse", 8)
        if (order := self.microshop.get("order")) and order.sagas:
            found.append(("sagas keep up with orders", *sagas_kept_up(order)))
        if half := self.microshop.get("order@half"):
            p99 = half.kinds[0].latency_ms["p99"]
            found.append(("order p99 at half the max rate <= 15 ms", f"{p99:.1f} ms", p99 <= 15))
        if first := next(iter(self.microshop.values()), None):
            if first.up_s is not None:
                found.append(("up to all-healthy <= 10 s", f"{first.up_s:.1f} s", first.up_s <= 10))
            peak = max(
                (r.memory.rss_mib_under_load for r in self.microshop.values() if r.memory),
                default=None,
            )
            if peak is not None:
                found.append(("whole-system RSS < 1 GiB", f"{peak:,.0f} MiB", peak < 1024))
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": "microshop bench compare",
            "seed": {name: result.to_json() for name, result in self.seed.items()},
            "microshop": {name: result.to_json() for name, result in self.microshop.items()},
            "seed_note": self.seed_note,
            "targets": [
                {"target": text, "measured": measured, "met": met}
                for text, measured, met in self.targets()
            ],
        }


def sagas_kept_up(order: BenchResult) -> tuple[str, bool]:
    """Kept up: after the ramp-up (a closed loop first fills its pipeline of sagas), the
    unfinished sagas grew by less than one second of orders, and all of them finished
    within the drain time after the load."""
    assert order.sagas is not None
    samples, drained = order.sagas.samples, order.sagas.drained_after_s
    settled = [count for at, count in samples[:-1] if at >= RAMP_UP_S] or [samples[0][1]]
    grew = samples[-1][1] - settled[0] if samples else 0
    measured = (
        f"{grew:+d} unfinished after the first {RAMP_UP_S:g} s "
        f"(1 s of orders: {order.ok_per_s:.0f}), "
        + (f"all done {drained:g} s after" if drained is not None else "not all done after")
    )
    return measured, grew <= max(order.ok_per_s, 1) and drained is not None


@dataclass(frozen=True)
class CompareOptions:
    scenarios: tuple[str, ...] = ("order", "browse")
    duration_s: float = 25.0
    warmup_s: float = 3.0
    checkout: bool = True
    half_rate: bool = True
    users: int = 16


def _options(scenario: str, options: CompareOptions, **plan: Any) -> RunOptions:
    plan.setdefault("concurrency", DEFAULT_CONCURRENCY[scenario])
    timeout = 20.0 if scenario == "checkout" else 10.0
    return RunOptions(
        scenario,
        LoadPlan(duration_s=options.duration_s, timeout_s=timeout, **plan),
        warmup_s=options.warmup_s,
        users=options.users,
    )


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
            "seed-baseline", seed.url, Flavour.SEED, seed.pids, SEED_RATE_LIMIT, up_s=seed.up_s
        )
        for scenario in options.scenarios:
            if scenario == "checkout":
                continue
            with progress_for(f"seed-baseline {scenario}") as hook:
                comparison.seed[scenario] = _run(target, _options(scenario, options), hook)
    say("stopped the chapter's system")


def _run(target: Target, options: RunOptions, hook: ProgressHook) -> BenchResult:
    return asyncio.run(run_benchmark(target, options, hook))


def _run_microshop(
    comparison: Comparison, options: CompareOptions, say: Say, progress_for: ProgressFor
) -> None:
    with tempfile.TemporaryDirectory(prefix="microshop-bench-") as work:
        say("starting microshop (microshop up --detach, MICROSHOP_RATE_LIMIT=off)")
        with started_microshop(Path(work) / "data") as system:
            target = Target(
                "microshop",
                system.url,
                Flavour.MICROSHOP,
                system.pids,
                system.rate_limit,
                system.sagas_url(),
                system.up_s,
                system.admin_password,
            )
            wanted = [
                *options.scenarios,
                *(["checkout"] if options.checkout and "checkout" not in options.scenarios else []),
            ]
            for scenario in wanted:
                with progress_for(f"microshop {scenario}") as hook:
                    comparison.microshop[scenario] = _run(target, _options(scenario, options), hook)
            order = comparison.microshop.get("order")
            if options.half_rate and order and order.ok_per_s > 0:
                rate = round(order.ok_per_s / 2, 1)
                with progress_for(f"microshop order at {rate:g}/s") as hook:
                    comparison.microshop["order@half"] = _run(
                        target, _options("order", options, rate=rate), hook
                    )
        say("stopped microshop")


def run_comparison(
    options: CompareOptions, say: Say, progress_for: ProgressFor, log: Path
) -> Comparison:
    comparison = Comparison()
    _run_seed(comparison, options, say, progress_for, log)
    _run_microshop(comparison, options, say, progress_for)
    return comparison
