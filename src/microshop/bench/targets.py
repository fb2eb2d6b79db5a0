"""The targets that `microshop bench compare` checks, each from the rows of the same
comparison run. A target whose rows are missing is listed as not measured (met None);
those of an optional phase (--db postgres, --products N, --tracing) only when it ran."""

from dataclasses import asdict, dataclass
from typing import Any

from microshop.bench.comparison import Comparison
from microshop.bench.report import BenchResult

ORDER_RATIO = 3.0
SAGAS_FINAL_S = 5.0
CHECKOUT_RATIO = 2.5
CPU_PER_ORDER_MS = 6.0
HALF_RATE_P99_MS = 15.0
BROWSE_RATIO = 6.0
UP_S = 6.0
RSS_MIB = 700.0
POSTGRES_ORDER_RATIO = 2.0
GROWN_P99_MS = 20.0
GROWN_ORDER_TOLERANCE = 0.10
TRACED_ORDER_TOLERANCE = 0.15
NOT_MEASURED = "not measured"
# How many processes the CPU target names in its one line (all are in its detail).
CPU_NAMED = 4


@dataclass(frozen=True)
class TargetRow:
    target: str
    measured: str
    met: bool | None
    # Numbers behind `measured` that a reader of the JSON may want (per-process ms).
    detail: dict[str, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ratio_row(
    text: str, comparison: Comparison, ours: BenchResult | None, theirs: str, goal: float
) -> TargetRow:
    """ours' rate >= goal x the chapter's `theirs` row."""
    ratio = comparison.ratio(ours, theirs)
    if ours is None or ratio is None:
        return TargetRow(text, NOT_MEASURED, None)
    base = comparison.seed[theirs].ok_per_s
    measured = f"{ratio:.2f}x ({ours.ok_per_s:,.0f} vs {base:,.0f}/s)"
    return TargetRow(text, measured, ratio >= goal)


def order_row(comparison: Comparison) -> TargetRow:
    text = (
        f"order >= {ORDER_RATIO:g}x the chapter's orders/s, 0 errors, "
        f"every saga final <= {SAGAS_FINAL_S:g} s after the load"
    )
    ours = comparison.microshop.get("order")
    row = ratio_row(text, comparison, ours, "order", ORDER_RATIO)
    if ours is None or row.met is None:
        return row
    drained = ours.sagas.drained_after_s if ours.sagas else None
    sagas = f"sagas final {drained:g} s after" if drained is not None else "sagas NOT all final"
    final = drained is not None and drained <= SAGAS_FINAL_S
    met = row.met and ours.errors == 0 and final
    return TargetRow(text, f"{row.measured}, {ours.errors:,} errors, {sagas}", met)


def cpu_row(comparison: Comparison) -> TargetRow:
    text = f"CPU per completed order, every process, <= {CPU_PER_ORDER_MS:g} ms"
    order = comparison.microshop.get("order")
    if order is None or order.cpu.us_per_ok is None:
        return TargetRow(text, NOT_MEASURED, None)
    per_process = {p.name: round((p.us_per_ok or 0) / 1000, 3) for p in order.cpu.processes}
    named = ", ".join(f"{name} {ms:.2f}" for name, ms in list(per_process.items())[:CPU_NAMED])
    total_ms = order.cpu.us_per_ok / 1000
    measured = f"{total_ms:.2f} ms ({named}, ...; see the order c={order.concurrency} CPU table)"
    return TargetRow(text, measured, total_ms <= CPU_PER_ORDER_MS, per_process)


def half_rate_row(comparison: Comparison) -> TargetRow:
    text = f"order p99 at half the max rate (open loop) <= {HALF_RATE_P99_MS:g} ms"
    half = comparison.microshop.get("order@half")
    if half is None:
        return TargetRow(text, NOT_MEASURED, None)
    latency = half.kinds[0].latency_ms
    measured = f"{latency['p99']:.1f} ms at {half.rate:g}/s (p50 {latency['p50']:.1f} ms)"
    return TargetRow(text, measured, latency["p99"] <= HALF_RATE_P99_MS and half.errors == 0)


def up_row(comparison: Comparison) -> TargetRow:
    text = f"`microshop up` to all healthy <= {UP_S:g} s"
    first = next(iter(comparison.microshop.values()), None)
    if first is None or first.up_s is None:
        return TargetRow(text, NOT_MEASURED, None)
    return TargetRow(text, f"{first.up_s:.1f} s", first.up_s <= UP_S)


def memory_row(comparison: Comparison) -> TargetRow:
    """The memory the whole system holds, each resident page once (the forked
    services share their libraries' pages); summed RSS, which counts a shared page
    in every process, where the pages could not be read (not root)."""
    text = f"whole-system resident memory at rest and under load <= {RSS_MIB:g} MiB"
    memories = [r.memory for r in comparison.microshop.values() if r.memory]
    if not memories:
        return TargetRow(text, NOT_MEASURED, None)
    summed_rss = max(max(m.rss_mib_at_rest, m.rss_mib_under_load) for m in memories)
    pss = max((m.pss_mib_under_load or 0 for m in memories), default=0)
    held = [
        (m.resident_mib_at_rest, m.resident_mib_under_load)
        for m in memories
        if m.resident_mib_at_rest is not None and m.resident_mib_under_load is not None
    ]
    if held:
        at_rest, under_load = max(r for r, _ in held), max(u for _, u in held)
        what = "each page once"
    else:
        at_rest = max(m.rss_mib_at_rest for m in memories)
        under_load = max(m.rss_mib_under_load for m in memories)
        what = "summed RSS: run as root to count each page once"
    measured = (
        f"{at_rest:,.0f} MiB at rest, {under_load:,.0f} under load ({what}; "
        f"summed RSS {summed_rss:,.0f}, PSS {pss:,.0f})"
    )
    return TargetRow(text, measured, max(at_rest, under_load) <= RSS_MIB)


def postgres_row(comparison: Comparison) -> TargetRow:
    text = f"order on PostgreSQL >= {POSTGRES_ORDER_RATIO:g}x the chapter's orders/s"
    ours = comparison.postgres.get("order")
    return ratio_row(text, comparison, ours, "order", POSTGRES_ORDER_RATIO)


def grown_latency_row(comparison: Comparison) -> TargetRow:
    products = f"{comparison.growth_products or 0:,}"
    text = f"browse and search p99 at c=8 with {products} products <= {GROWN_P99_MS:g} ms"
    runs = [comparison.growth.get(name) for name in ("browse", "search")]
    if any(run is None for run in runs):
        return TargetRow(text, NOT_MEASURED, None)
    p99 = {run.scenario: run.kinds[0].latency_ms["p99"] for run in runs if run}
    measured = ", ".join(f"{name} {ms:.1f} ms" for name, ms in p99.items())
    met = all(ms <= GROWN_P99_MS for ms in p99.values()) and all(
        run.errors == 0 for run in runs if run
    )
    return TargetRow(text, measured, met)


def change_row(
    text: str, ours: BenchResult | None, base: BenchResult | None, tolerance: float
) -> TargetRow:
    """ours' rate no more than `tolerance` below base's, from the same comparison run."""
    if ours is None or base is None or not base.ok_per_s:
        return TargetRow(text, NOT_MEASURED, None)
    change = ours.ok_per_s / base.ok_per_s - 1
    measured = f"{ours.ok_per_s:,.0f} vs {base.ok_per_s:,.0f}/s ({change:+.1%})"
    return TargetRow(text, measured, change >= -tolerance)


def grown_order_row(comparison: Comparison) -> TargetRow:
    products = f"{comparison.growth_products or 0:,}"
    text = (
        f"order rate with {products} products within {GROWN_ORDER_TOLERANCE:.0%} "
        "of the starter catalog's (no slower)"
    )
    grown, small = comparison.growth.get("order"), comparison.microshop.get("order")
    return change_row(text, grown, small, GROWN_ORDER_TOLERANCE)


def tracing_row(comparison: Comparison) -> TargetRow:
    """Tracing on as shipped (its default sampling: every request of a person
    clicking, a few a second under load) against no span at all; the rate with every
    order traced is shown beside it, for what that costs."""
    text = (
        f"order rate with tracing on (default sampling) within {TRACED_ORDER_TOLERANCE:.0%} "
        "of the rate with tracing off"
    )
    off, default = comparison.tracing.get("off"), comparison.microshop.get("order")
    row = change_row(text, default, off, TRACED_ORDER_TOLERANCE)
    traced = comparison.tracing.get("all")
    if row.met is None or traced is None or off is None:
        return row
    every = traced.ok_per_s / off.ok_per_s - 1
    measured = f"{row.measured}; every order traced {traced.ok_per_s:,.0f}/s ({every:+.1%})"
    return TargetRow(text, measured, row.met)


def evaluate(comparison: Comparison) -> list[TargetRow]:
    ms = comparison.microshop
    rows = [
        order_row(comparison),
        ratio_row(
            f"checkout sagas/s >= {CHECKOUT_RATIO:g}x the chapter's orders/s",
            comparison,
            ms.get("checkout"),
            "order",
            CHECKOUT_RATIO,
        ),
        cpu_row(comparison),
        half_rate_row(comparison),
        ratio_row(
            f"browse (c=32) >= {BROWSE_RATIO:g}x the chapter's",
            comparison,
            ms.get("browse"),
            "browse",
            BROWSE_RATIO,
        ),
        up_row(comparison),
        memory_row(comparison),
    ]
    if comparison.postgres:
        rows.append(postgres_row(comparison))
    if comparison.growth:
        rows += [grown_latency_row(comparison), grown_order_row(comparison)]
    if comparison.tracing:
        rows.append(tracing_row(comparison))
    return rows
