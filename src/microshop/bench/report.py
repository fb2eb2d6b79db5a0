"""One run's result: what was measured, as a JSON line that other tools can read."""

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from microshop.bench.load import KindStats, LoadPlan


@dataclass(frozen=True)
class KindReport:
    kind: str
    ok: int
    ok_per_s: float
    errors: dict[str, int]
    latency_ms: dict[str, float]

    @classmethod
    def of(cls, kind: str, stats: KindStats, measured_s: float) -> "KindReport":
        return cls(
            kind,
            stats.ok,
            round(stats.ok / measured_s, 1) if measured_s > 0 else 0.0,
            dict(stats.errors.most_common()),
            stats.latencies.summary_ms(),
        )


@dataclass(frozen=True)
class ProcessCpu:
    """One named process of the system (with its descendants) over the measured window:
    `share` of the system's CPU (0-1); `rss_mib` at its peak."""

    name: str
    cpu_s: float
    cores: float
    share: float
    us_per_ok: float | None
    rss_mib: float


@dataclass(frozen=True)
class CpuReport:
    """CPU seconds over the measured window; `cores` = seconds / window (1.0 = one core).
    `system_*` sums `processes`; `other_cores`: what else kept this machine's cores
    busy meanwhile (other programs)."""

    system_s: float
    system_cores: float
    us_per_ok: float | None
    generator_s: float
    generator_cores: float
    other_cores: float = 0.0
    processes: list[ProcessCpu] = field(default_factory=list)


@dataclass(frozen=True)
class MemoryReport:
    """Resident memory of every process of the system. Summed RSS counts a page shared
    by several processes in each of them (the forked services share most of theirs);
    PSS (Linux) shares each page out among all its users, also those outside the
    system; `resident` counts every page the system's processes hold once: what the
    whole system takes (None without root, which reading page frames needs). Under
    load: RSS at its peak, PSS and resident at the end of the load."""

    rss_mib_at_rest: float
    rss_mib_under_load: float
    processes: int
    pss_mib_at_rest: float | None = None
    pss_mib_under_load: float | None = None
    resident_mib_at_rest: float | None = None
    resident_mib_under_load: float | None = None


@dataclass(frozen=True)
class SagaReport:
    """Unfinished order sagas: `samples` are (seconds into the run, count)."""

    at_start: int | None
    at_end: int | None
    peak: int | None
    samples: list[tuple[float, int]]
    drained_after_s: float | None


@dataclass(frozen=True)
class BenchResult:
    system: str
    scenario: str
    mode: str
    concurrency: int | None
    rate: float | None
    measured_s: float
    warmup_s: float
    ok: int
    ok_per_s: float
    errors: int
    kinds: list[KindReport]
    rate_limit: str
    # "hdr" or "exact" (the aiohttp engine's percentiles), "wrk" (wrk's own histogram)
    histogram: str
    cpu: CpuReport
    memory: MemoryReport | None
    up_s: float | None
    sagas: SagaReport | None
    capped: bool
    engine: str = "aiohttp"
    engine_note: str | None = None
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    host: str = field(default_factory=socket.gethostname)
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def label(self) -> str:
        load = f"c={self.concurrency}" if self.rate is None else f"{self.rate:g}/s"
        return f"{self.scenario} {load}"

    @property
    def error_counts(self) -> dict[str, int]:
        merged: dict[str, int] = {}
        for kind in self.kinds:
            for label, count in kind.errors.items():
                merged[label] = merged.get(label, 0) + count
        return merged

    def to_json(self) -> dict[str, Any]:
        return {"tool": "microshop bench", **asdict(self)}

    def json_line(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))


def kind_reports(kinds: dict[str, KindStats], measured_s: float) -> list[KindReport]:
    return [KindReport.of(kind, stats, measured_s) for kind, stats in kinds.items()]


def _per_ok_us(cpu_s: float, ok: int) -> float | None:
    return round(cpu_s / ok * 1_000_000, 1) if ok else None


def process_rows(
    cpu_by_name: dict[str, float], rss_by_name: dict[str, int], measured_s: float, ok: int
) -> list[ProcessCpu]:
    """One row per named process, the busiest first."""
    window, total = max(measured_s, 1e-9), sum(cpu_by_name.values())
    return [
        ProcessCpu(
            name,
            round(cpu_s, 3),
            round(cpu_s / window, 3),
            round(cpu_s / total, 3) if total else 0.0,
            _per_ok_us(cpu_s, ok),
            round(rss_by_name.get(name, 0) / 2**20, 1),
        )
        for name, cpu_s in sorted(cpu_by_name.items(), key=lambda item: -item[1])
    ]


def cpu_report(
    processes: list[ProcessCpu],
    generator_s: float,
    machine_s: float,
    measured_s: float,
    ok: int,
) -> CpuReport:
    window = max(measured_s, 1e-9)
    system_s = sum(process.cpu_s for process in processes)
    return CpuReport(
        round(system_s, 2),
        round(system_s / window, 2),
        _per_ok_us(system_s, ok),
        round(generator_s, 2),
        round(generator_s / window, 2),
        round(max(machine_s - system_s - generator_s, 0.0) / window, 2),
        processes,
    )


def plan_fields(plan: LoadPlan) -> dict[str, Any]:
    return {
        "mode": plan.mode,
        "concurrency": plan.concurrency if plan.rate is None else None,
        "rate": plan.rate,
    }
