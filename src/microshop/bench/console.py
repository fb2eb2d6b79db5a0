"""How a run looks in a terminal: a live progress line while it runs, then a table."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from microshop.bench.load import Recorder
from microshop.bench.report import BenchResult
from microshop.bench.runner import ProgressHook

LATENCY_COLUMNS = ("p50", "p95", "p99", "p99.9")


@contextmanager
def live_progress(console: Console, title: str) -> Iterator[ProgressHook]:
    """A progress bar per phase (warm-up, measuring) with the live counters."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[counters]}"),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(phase: str, recorder: Recorder, elapsed: float, planned: float) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(f"{title} {phase}", total=planned, counters="")
        rate = recorder.ok / elapsed if elapsed > 0 else 0.0
        counters = (
            f"ok {recorder.ok} ({rate:,.0f}/s)  errors {recorder.failed}  "
            f"in flight {recorder.in_flight}"
        )
        progress.update(tasks[phase], completed=min(elapsed, planned), counters=counters)

    with progress:
        yield update


def _errors_text(errors: dict[str, int]) -> str:
    return ", ".join(f"{label}: {count}" for label, count in errors.items()) or "0"


def results_table(results: list[BenchResult], title: str = "microshop bench") -> Table:
    table = Table(title=f"{title} (latency in ms)")
    table.add_column("system", no_wrap=True)
    table.add_column("run", no_wrap=True)
    for column in ("ok", "ok/s", *LATENCY_COLUMNS):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("errors")
    table.add_column("CPU µs/ok", justify="right", no_wrap=True)
    for result in results:
        for kind in result.kinds:
            run = result.label if kind.kind == result.scenario else f"{result.label}: {kind.kind}"
            table.add_row(
                result.system,
                run,
                f"{kind.ok:,}",
                f"{kind.ok_per_s:,.1f}",
                *(f"{kind.latency_ms[column]:.1f}" for column in LATENCY_COLUMNS),
                _errors_text(kind.errors),
                f"{result.cpu.us_per_ok:,.0f}" if result.cpu.us_per_ok else "-",
            )
    return table


def notes(result: BenchResult) -> list[str]:
    """The footnotes that say how to read one row."""
    lines = [
        f"{result.system} {result.label}: {result.measured_s:g} s measured after "
        f"{result.warmup_s:g} s warm-up; edge rate limit {result.rate_limit}; "
        f"percentiles from {'an HDR histogram' if result.histogram == 'hdr' else 'every sample'}",
        f"  CPU: system {result.cpu.system_cores:.2f} cores, "
        f"load generator {result.cpu.generator_cores:.2f}, "
        f"everything else on the machine {result.cpu.other_cores:.2f} (of {result.cpus} cores)",
    ]
    if memory := result.memory:
        proportional = (
            f"; PSS {memory.pss_mib_at_rest:,.0f} / {memory.pss_mib_under_load:,.0f} MiB"
            if memory.pss_mib_at_rest and memory.pss_mib_under_load
            else ""
        )
        lines.append(
            f"  memory: RSS {memory.rss_mib_at_rest:,.0f} MiB at rest, "
            f"{memory.rss_mib_under_load:,.0f} MiB under load{proportional} "
            f"({memory.processes} processes)"
        )
    if result.up_s is not None:
        lines.append(f"  start: {result.up_s:.1f} s from `up` to all healthy")
    if result.sagas:
        sagas = result.sagas
        drained = (
            f"all finished {sagas.drained_after_s:g} s after the load"
            if sagas.drained_after_s is not None
            else "NOT all finished after the load"
        )
        lines.append(
            f"  sagas unfinished: {sagas.at_start} at start, {sagas.peak} at peak, "
            f"{sagas.at_end} at end; {drained}"
        )
    if "429" in result.error_counts:
        lines.append("  [bold red]429 answers: the edge rate limit is on[/]")
    if result.capped:
        lines.append("  stopped at --max-requests before the time was up")
    return lines
