"""How a run looks in a terminal: a live progress line while it runs, then tables: the
rows, where the CPU went process by process, the targets."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from microshop.bench.load import Recorder
from microshop.bench.report import BenchResult
from microshop.bench.runner import ProgressHook
from microshop.bench.targets import TargetRow

LATENCY_COLUMNS = ("p50", "p95", "p99", "p99.9")
HISTOGRAMS = {"hdr": "an HDR histogram", "exact": "every sample", "wrk": "wrk's histogram"}


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

    def update(phase: str, recorder: Recorder | None, elapsed: float, planned: float) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(f"{title} {phase}", total=planned, counters="")
        if recorder is None:
            counters = "wrk: counted at the end"
        else:
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
    table.add_column("engine", no_wrap=True)
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
                result.engine,
                f"{kind.ok:,}",
                f"{kind.ok_per_s:,.1f}",
                *(f"{kind.latency_ms[column]:.1f}" for column in LATENCY_COLUMNS),
                _errors_text(kind.errors),
                f"{result.cpu.us_per_ok:,.0f}" if result.cpu.us_per_ok else "-",
            )
    return table


def cpu_table(result: BenchResult) -> Table:
    """Where the system's CPU went in one run, process by process."""
    cpu = result.cpu
    table = Table(title=f"CPU: {result.system} {result.label} ({result.measured_s:g} s)")
    table.add_column("process", no_wrap=True)
    for column in ("CPU s", "cores", "share", "CPU µs/ok", "RSS MiB"):
        table.add_column(column, justify="right", no_wrap=True)

    def per_ok(us: float | None) -> str:
        return f"{us:,.0f}" if us is not None else "-"

    for process in cpu.processes:
        table.add_row(
            process.name,
            f"{process.cpu_s:,.2f}",
            f"{process.cores:.2f}",
            f"{process.share:.1%}",
            per_ok(process.us_per_ok),
            f"{process.rss_mib:,.0f}",
        )
    rss = f"{result.memory.rss_mib_under_load:,.0f}" if result.memory else "-"
    table.add_section()
    table.add_row(
        "[bold]system total[/]",
        f"{cpu.system_s:,.2f}",
        f"{cpu.system_cores:.2f}",
        "100%",
        per_ok(cpu.us_per_ok),
        rss,
        end_section=True,
    )
    generator = f"load generator ({result.engine})"
    table.add_row(generator, f"{cpu.generator_s:,.2f}", f"{cpu.generator_cores:.2f}", "", "", "")
    table.add_row("everything else", "", f"{cpu.other_cores:.2f}", "", "", "")
    return table


def targets_table(rows: list[TargetRow]) -> Table:
    table = Table(title="targets")
    for column in ("target", "measured", "met"):
        table.add_column(column)
    for row in rows:
        mark = "-" if row.met is None else ("[green]yes[/]" if row.met else "[red]no[/]")
        table.add_row(escape(row.target), escape(row.measured), mark)
    return table


def notes(result: BenchResult) -> list[str]:
    """The footnotes that say how to read one row."""
    lines = [
        f"{result.system} {result.label}: {result.measured_s:g} s measured after "
        f"{result.warmup_s:g} s warm-up; edge rate limit {result.rate_limit}; "
        f"percentiles from {HISTOGRAMS.get(result.histogram, result.histogram)}",
        f"  engine: {result.engine}"
        + (f" ({result.engine_note})" if result.engine_note else "")
        + ("; wrk's percentiles count every answer, errors too" if result.engine == "wrk" else ""),
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
        held = (
            f"  memory held by the whole system (each page once): "
            f"{memory.resident_mib_at_rest:,.0f} MiB at rest, "
            f"{memory.resident_mib_under_load:,.0f} under load; "
            if memory.resident_mib_at_rest and memory.resident_mib_under_load
            else "  memory: "
        )
        lines.append(
            f"{held}summed RSS {memory.rss_mib_at_rest:,.0f} MiB at rest, "
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
    if result.capped and result.engine == "wrk":
        lines.append("  stopped at --max-requests; wrk ran out its time, so ok/s is understated")
    elif result.capped:
        lines.append("  stopped at --max-requests before the time was up")
    return lines
