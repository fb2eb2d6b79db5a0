"""`microshop bench` (one scenario against microshop) and `microshop bench compare`
(the chapter's system, then microshop). Tables go to the terminal; the last line of
standard output is one JSON document."""

import asyncio
import json
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from microshop.bench.scenarios import SCENARIOS

if TYPE_CHECKING:
    from microshop.bench.microshop_system import MicroshopSystem
    from microshop.bench.report import BenchResult
    from microshop.bench.runner import RunOptions

bench_app = typer.Typer(
    help="Load-test microshop (and compare it with the chapter's system).",
    invoke_without_command=True,
)
# Wide enough for the tables when the output goes to a file or a pipe.
out = Console(highlight=False, width=max(Console().width, 140))
err = Console(stderr=True, highlight=False)

DATABASES = ("sqlite", "postgres")
Scenario = Annotated[str, typer.Option(help=f"one of {', '.join(SCENARIOS)}")]
Duration = Annotated[float, typer.Option(help="measured seconds (max 600)")]
Warmup = Annotated[float, typer.Option(help="unmeasured seconds of load first (max 60)")]
Engine = Annotated[
    str | None,
    typer.Option(help="wrk or aiohttp (default: wrk where installed; open loop: aiohttp)"),
]
Database = Annotated[
    str, typer.Option("--db", help="sqlite, or postgres: the machine's, a database per service")
]
Products = Annotated[
    int | None, typer.Option(help="import this many products first (max 1,000,000)")
]
Tracing = Annotated[
    str,
    typer.Option(help="default (a few traces a second), off (no span) or all (every order)"),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(1)


def _print_run(result: "BenchResult") -> None:
    from microshop.bench.console import cpu_table, notes

    out.print(cpu_table(result))
    for line in notes(result):
        out.print(line)


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
    engine: Engine = None,
    db: Database = "sqlite",
    products: Products = None,
    url: Annotated[
        str | None, typer.Option(help="a running system's gateway instead of starting one")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="with --url: its data dir (processes, sagas, admin password)"),
    ] = None,
    replicas: Annotated[
        str | None, typer.Option(help="instances per service, e.g. orders=2 (as `up --replicas`)")
    ] = None,
    tracing: Tracing = "default",
) -> None:
    """Run one scenario against microshop (started here unless --url is given)."""
    if ctx.invoked_subcommand is not None:
        return
    from microshop.bench.engines import choose_engine
    from microshop.bench.load import InvalidPlan, LoadPlan, require_loopback
    from microshop.bench.microshop_system import TRACING
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
        _check_db_and_products(db, products, attached=url is not None)
        if replicas and url is not None:
            raise InvalidPlan("--replicas starts a system: it does not go with --url")
        if tracing not in TRACING:
            raise InvalidPlan(f"--tracing must be one of {', '.join(TRACING)}")
        if tracing != "default" and url is not None:
            raise InvalidPlan("--tracing starts a system: it does not go with --url")
        choose_engine(engine, plan, scenario)
        if url is not None:
            url = require_loopback(url)
    except InvalidPlan as exc:
        raise _fail(str(exc)) from None
    options = RunOptions(scenario, plan, warmup, users, checkout_wait, drain, engine)
    how = Started(db, replicas, tracing)
    _run_one(options, url, data_dir.resolve() if data_dir else None, how, products)


def _check_db_and_products(db: str, products: int | None, attached: bool) -> None:
    from microshop.bench.growth import MAX_PRODUCTS
    from microshop.bench.load import InvalidPlan

    if db not in DATABASES:
        raise InvalidPlan(f"--db must be one of {', '.join(DATABASES)}")
    if attached and db != "sqlite":
        raise InvalidPlan("--db starts a system: it does not go with --url")
    if products is not None and not 1 <= products <= MAX_PRODUCTS:
        raise InvalidPlan(f"products must be in [1, {MAX_PRODUCTS:,}]")


@dataclass(frozen=True)
class Started:
    """How to start the system under test when the bench starts one."""

    db: str = "sqlite"
    replicas: str | None = None
    tracing: str = "default"


@contextmanager
def _started(how: Started) -> Iterator["MicroshopSystem"]:
    """A microshop of our own in a temporary data dir, on PostgreSQL if asked."""
    from microshop.bench.microshop_system import started_microshop
    from microshop.bench.postgres import bench_databases

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="microshop-bench-")))
        databases = stack.enter_context(bench_databases()) if how.db == "postgres" else None
        err.print(
            "starting microshop (microshop up --detach, MICROSHOP_RATE_LIMIT=off"
            + (", every service on PostgreSQL" if databases else "")
            + (f", tracing {how.tracing})" if how.tracing != "default" else ")")
        )
        system = started_microshop(work / "data", databases, how.replicas, how.tracing)
        yield stack.enter_context(system)


def _run_one(
    options: "RunOptions",
    url: str | None,
    data_dir: Path | None,
    how: Started,
    products: int | None,
) -> None:
    from microshop.bench.compare import PHASE_FAILURES, microshop_target
    from microshop.bench.console import live_progress, results_table
    from microshop.bench.growth import grow_catalog
    from microshop.bench.microshop_system import attached_system
    from microshop.bench.runner import run_benchmark

    def run(system: "MicroshopSystem") -> None:
        name = "microshop (postgres)" if system.on_postgres else "microshop"
        name += f" (tracing {how.tracing})" if how.tracing != "default" else ""
        target = microshop_target(system, f"{name} +{products:,} products" if products else name)
        if products:
            err.print(f"importing {products:,} products")
            took = asyncio.run(grow_catalog(target.url, target.admin_password, products))
            err.print(f"imported {products:,} products in {took:.1f} s")
        with live_progress(err, f"{target.name} {options.scenario}") as hook:
            result = asyncio.run(run_benchmark(target, options, hook))
        out.print(results_table([result]))
        _print_run(result)
        typer.echo(result.json_line())

    try:
        if url is not None:
            run(attached_system(url, data_dir))
            return
        with _started(how) as system:
            run(system)
    except PHASE_FAILURES as exc:
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
    engine: Engine = None,
    db: Annotated[
        str, typer.Option("--db", help="postgres: also run order on microshop on PostgreSQL")
    ] = "sqlite",
    products: Annotated[
        int | None,
        typer.Option(help="then import this many products and run browse, search, order"),
    ] = None,
    tracing: Annotated[
        bool, typer.Option(help="also run order with tracing off and with every order traced")
    ] = True,
) -> None:
    """The chapter's system, then microshop, the same scenarios: both rows and the targets.

    The chapter's system comes from ../shared/bench/seed-baseline (or
    $MICROSHOP_SEED_BASELINE); only one system runs at a time."""
    from microshop.bench.compare import PHASE_FAILURES, CompareOptions, run_comparison
    from microshop.bench.console import live_progress, results_table, targets_table
    from microshop.bench.engines import choose_engine
    from microshop.bench.load import InvalidPlan, LoadPlan
    from microshop.bench.seed import SeedFailed
    from microshop.bench.targets import evaluate

    wanted = tuple(s.strip() for s in scenarios.split(",") if s.strip())
    if not wanted or any(s not in SCENARIOS for s in wanted):
        raise _fail(f"scenarios must be among {', '.join(SCENARIOS)}")
    try:
        _check_db_and_products(db, products, attached=False)
        choose_engine(engine, LoadPlan(duration_s=duration), "order")
    except InvalidPlan as exc:
        raise _fail(str(exc)) from None
    options = CompareOptions(
        wanted,
        duration,
        warmup,
        checkout,
        half_rate,
        engine=engine,
        db=db,
        products=products,
        tracing=tracing,
    )
    with tempfile.TemporaryDirectory(prefix="microshop-compare-") as logs:
        try:
            comparison = run_comparison(
                options, err.print, lambda title: live_progress(err, title), Path(logs) / "seed.log"
            )
        except (SeedFailed, *PHASE_FAILURES) as exc:
            raise _fail(str(exc)) from None
    results = comparison.results()
    out.print(results_table(results, "microshop bench compare"))
    for result in results:
        _print_run(result)
    targets = evaluate(comparison)
    out.print(targets_table(targets))
    for note in filter(None, [comparison.seed_note, *comparison.notes]):
        out.print(f"[bold yellow]{escape(note)}[/]")
    document = {**comparison.to_json(), "targets": [target.to_json() for target in targets]}
    typer.echo(json.dumps(document, separators=(",", ":")))
