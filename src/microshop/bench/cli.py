"""`microshop bench` (one scenario against microshop) and `microshop bench compare`
(the chapter's system, then microshop). Tables go to the terminal; the last line of
standard output is one JSON document."""

import asyncio
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from microshop.bench.scenarios import SCENARIOS, Flavour

if TYPE_CHECKING:
    from microshop.bench.compare import Comparison
    from microshop.bench.microshop_system import MicroshopSystem
    from microshop.bench.runner import RunOptions

bench_app = typer.Typer(
    help="Load-test microshop (and compare it with the chapter's system).",
    invoke_without_command=True,
)
# Wide enough for the table when the output goes to a file or a pipe.
out = Console(highlight=False, width=max(Console().width, 120))
err = Console(stderr=True, highlight=False)

Scenario = Annotated[str, typer.Option(help=f"one of {', '.join(SCENARIOS)}")]
Duration = Annotated[float, typer.Option(help="measured seconds (max 600)")]
Warmup = Annotated[float, typer.Option(help="unmeasured seconds of load first (max 60)")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(1)


@bench_app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    scenario: Scenario = "order",
    concurrency: Annotated[int, typer.Option(help="closed loop: requests in flight")] = 16,
    rate: Annotated[
        float | None, typer.Option(help="open loop: requests per second (instead of concurrency)")
    ] = None,
    duration: Duration = 20.0,
    warmup: Warmup = 3.0,
    max_requests: Annotated[int, typer.Option(help="stop after this many requests")] = 5_000_000,
    users: Annotated[int, typer.Option(help="registered users whose tokens place orders")] = 16,
    checkout_wait: Annotated[float, typer.Option(help="checkout: Prefer: wait=N seconds")] = 10.0,
    drain: Annotated[float, typer.Option(help="seconds to wait for sagas after the load")] = 30.0,
    url: Annotated[
        str | None, typer.Option(help="a running system's gateway instead of starting one")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="with --url: its data dir (processes, sagas, admin password)"),
    ] = None,
) -> None:
    """Run one scenario against microshop (started here unless --url is given)."""
    if ctx.invoked_subcommand is not None:
        return
    from microshop.bench.load import InvalidPlan, LoadPlan, require_loopback
    from microshop.bench.runner import RunOptions

    try:
        plan = LoadPlan(
            duration_s=duration,
            concurrency=concurrency,
            rate=rate,
            max_requests=max_requests,
            timeout_s=checkout_wait + 5 if scenario == "checkout" else 10.0,
        )
        if scenario not in SCENARIOS:
            raise InvalidPlan(f"unknown scenario {scenario!r} (one of {', '.join(SCENARIOS)})")
        if not 0 <= warmup <= 60:
            raise InvalidPlan("warm-up must be in [0, 60] s")
        if not 1 <= users <= 1000:
            raise InvalidPlan("users must be in [1, 1000]")
        if url is not None:
            url = require_loopback(url)
    except InvalidPlan as exc:
        raise _fail(str(exc)) from None
    options = RunOptions(scenario, plan, warmup, users, checkout_wait, drain)
    _run_one(options, url, data_dir.resolve() if data_dir else None)


def _run_one(options: "RunOptions", url: str | None, data_dir: Path | None) -> None:
    from microshop.bench.console import live_progress, notes, results_table
    from microshop.bench.microshop_system import SystemFailed, attached_system, started_microshop
    from microshop.bench.prepare import PreparationFailed
    from microshop.bench.runner import Target, run_benchmark

    def run(target: Target) -> None:
        with live_progress(err, f"{target.name} {options.scenario}") as hook:
            result = asyncio.run(run_benchmark(target, options, hook))
        out.print(results_table([result]))
        for line in notes(result):
            out.print(line)
        typer.echo(result.json_line())

    def target_of(system: "MicroshopSystem") -> Target:
        return Target(
            "microshop",
            system.url,
            Flavour.MICROSHOP,
            system.pids,
            system.rate_limit,
            system.sagas_url(),
            system.up_s,
            system.admin_password,
        )

    try:
        if url is not None:
            run(target_of(attached_system(url, data_dir)))
            return
        with tempfile.TemporaryDirectory(prefix="microshop-bench-") as work:
            err.print("starting microshop (microshop up --detach, MICROSHOP_RATE_LIMIT=off)")
            with started_microshop(Path(work) / "data") as system:
                run(target_of(system))
    except (SystemFailed, PreparationFailed, OSError) as exc:
        raise _fail(str(exc)) from None


@bench_app.command()
def compare(
    scenarios: Annotated[str, typer.Option(help="comma-separated scenarios")] = "order,browse",
    duration: Duration = 25.0,
    warmup: Warmup = 3.0,
    checkout: Annotated[bool, typer.Option(help="also run checkout on microshop")] = True,
    half_rate: Annotated[
        bool, typer.Option(help="also run order open-loop at half microshop's max rate")
    ] = True,
) -> None:
    """The chapter's system, then microshop, the same scenarios: both rows and ratios.

    The chapter's system comes from ../shared/bench/seed-baseline (or
    $MICROSHOP_SEED_BASELINE); only one system runs at a time."""
    from microshop.bench.compare import CompareOptions, run_comparison
    from microshop.bench.console import live_progress, notes, results_table
    from microshop.bench.microshop_system import SystemFailed
    from microshop.bench.prepare import PreparationFailed
    from microshop.bench.seed import SeedFailed

    wanted = tuple(s.strip() for s in scenarios.split(",") if s.strip())
    if not wanted or any(s not in SCENARIOS for s in wanted):
        raise _fail(f"scenarios must be among {', '.join(SCENARIOS)}")
    options = CompareOptions(wanted, duration, warmup, checkout, half_rate)
    with tempfile.TemporaryDirectory(prefix="microshop-compare-") as logs:
        try:
            comparison = run_comparison(
                options, err.print, lambda title: live_progress(err, title), Path(logs) / "seed.log"
            )
        except (SeedFailed, SystemFailed, PreparationFailed, OSError) as exc:
            raise _fail(str(exc)) from None
    results = [*comparison.seed.values(), *comparison.microshop.values()]
    out.print(results_table(results, "microshop bench compare"))
    out.print(_ratios(comparison))
    for result in results:
        for line in notes(result):
            out.print(line)
    if comparison.seed_note:
        out.print(f"[bold yellow]{escape(comparison.seed_note)}[/]")
    typer.echo(json.dumps(comparison.to_json(), separators=(",", ":")))


def _ratios(comparison: "Comparison") -> Table:
    table = Table(title="targets")
    for column in ("target", "measured", "met"):
        table.add_column(column)
    for text, measured, met in comparison.targets():
        mark = "-" if met is None else ("[green]yes[/]" if met else "[red]no[/]")
        table.add_row(text, measured, mark)
    return table
