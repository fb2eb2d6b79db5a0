"""The whole system on this machine: `microshop up`, `down`, `status` and `logs`."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from microshop.cli.common import (
    DEFAULT_DATA_DIR,
    DataDir,
    GatewayPort,
    PortBase,
    err,
    fail,
    out,
    this_command,
)
from microshop.runtime.console import OPEN_MODE_WARNING
from microshop.runtime.errors import StartupError

if TYPE_CHECKING:
    from microshop.runtime.settings import RuntimeSettings
    from microshop.runtime.state import RunPaths
    from microshop.runtime.system import UpOptions


def up(
    open_mode: Annotated[
        bool,
        typer.Option("--open", help="no authentication: the reference scenario's tutorial mode"),
    ] = False,
    detach: Annotated[
        bool, typer.Option("--detach", help="run in the background; stop with `microshop down`")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    port: GatewayPort = 8080,
    service_port_base: PortBase = 8100,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            help="use this broker (nats://... or amqp://...) instead of starting NATS; "
            "default: $MICROSHOP_BROKER_URL",
        ),
    ] = None,
    replicas: Annotated[
        str | None,
        typer.Option("--replicas", help="instances per service, e.g. orders=2,catalog=2"),
    ] = None,
) -> None:
    """Start NATS, every service and the gateway on this machine."""
    from dataclasses import replace

    from microshop.gateway.ratelimit import InvalidRateLimit
    from microshop.runtime.replicas import parse_replicas
    from microshop.runtime.settings import RuntimeSettings
    from microshop.runtime.supervisor import run_supervisor

    settings = RuntimeSettings()
    try:
        options = _up_options(settings, data_dir, port, service_port_base, open_mode, broker)
        options = replace(options, replicas=parse_replicas(replicas, options.services))
    except InvalidRateLimit as exc:
        fail(f"MICROSHOP_RATE_LIMIT: {exc}")
    except StartupError as exc:
        fail(str(exc))
    if detach:
        if open_mode:
            err.print(f"[bold red]WARNING: {OPEN_MODE_WARNING}[/]")
        _up_detached(options, settings)
        return
    try:
        run_supervisor(options, settings)
    except StartupError as exc:
        fail(str(exc))


def _up_options(
    settings: "RuntimeSettings",
    data_dir: Path,
    port: int,
    service_port_base: int,
    open_mode: bool,
    broker: str | None,
) -> "UpOptions":
    from microshop.runtime.settings import DEFAULT_BUS_PREFIX
    from microshop.runtime.system import UpOptions

    return UpOptions(
        data_dir.resolve(),
        port,
        service_port_base,
        open_mode,
        settings.gateway_rate_limit(),
        broker or settings.broker_url,
        settings.bus_prefix or DEFAULT_BUS_PREFIX,
        settings.max_body_bytes,
    )


def _up_detached(options: "UpOptions", settings: "RuntimeSettings") -> None:
    from microshop.runtime import console
    from microshop.runtime.detached import DetachedStartFailed, launch_detached, wait_until_ready

    log_file = options.paths.log_file
    try:
        supervisor = launch_detached(options)
        err.print(
            f"starting in the background (supervisor pid {supervisor.pid}), logging to {log_file}"
        )
        state = wait_until_ready(options.paths, supervisor)
    except DetachedStartFailed as exc:
        err.print(f"[dim]last lines of {log_file}:[/]")
        for line in exc.log_tail:
            if line.removeprefix("error: ") != str(exc):  # printed once, last, below
                err.print(escape(line))
        fail(str(exc))
    except StartupError as exc:
        fail(str(exc))
    everything = dict.fromkeys(state.processes, True)
    out.print(console.process_table(state, dict(everything), everything))
    console.print_summary(
        out, state, options.paths, admin_password_from_env=settings.admin_password_from_env
    )
    command, data_dir = this_command(), options.data_dir
    out.print(f"  [bold]{'logs':<12}[/] {log_file} ({command} logs --data-dir {data_dir})")
    out.print(f"  [bold]{'stop with':<12}[/] {command} down --data-dir {data_dir}")


def down(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Stop a system started with `microshop up` (foreground or detached)."""
    from microshop.runtime.control import stop_system
    from microshop.runtime.state import RunPaths

    out.print(stop_system(RunPaths(data_dir.resolve())))


def status(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Show each process of a running system: pid, port, alive, health."""
    from microshop.runtime import console
    from microshop.runtime.control import system_status
    from microshop.runtime.settings import RuntimeSettings
    from microshop.runtime.state import RunPaths

    paths = RunPaths(data_dir.resolve())
    try:
        state, health, alive = system_status(paths)
    except StartupError as exc:
        fail(str(exc))
    out.print(console.process_table(state, health, alive))
    out.print(f"  [bold]{'supervisor':<12}[/] pid {state.supervisor_pid}, {state.status}")
    out.print(f"  [bold]{'instances':<12}[/] {console.instance_counts(state, health)} healthy")
    from_env = RuntimeSettings().admin_password_from_env
    console.print_summary(out, state, paths, admin_password_from_env=from_env)
    if not (all(alive.values()) and all(health.values())):
        raise typer.Exit(1)


def logs(
    service: Annotated[
        str | None,
        typer.Argument(help="a service: its request log (one line per request and event)"),
    ] = None,
    order: Annotated[
        int | None,
        typer.Option("--order", min=1, help="only this order's path, across every service"),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    lines: Annotated[int, typer.Option("--lines", min=0, help="how many last lines")] = 50,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="keep printing new lines until Ctrl-C")
    ] = False,
) -> None:
    """Print the log of a system started with `microshop up --detach`; with a service
    or --order, the services' request logs (an order's path through every service)."""
    from microshop.runtime.logs import ensure_log, follow_log, log_tail
    from microshop.runtime.state import RunPaths

    paths = RunPaths(data_dir.resolve())
    if service is not None or order is not None:
        _request_logs(paths, service, order, lines, follow)
        return
    try:
        ensure_log(paths)
    except StartupError as exc:
        fail(str(exc))
    for line in log_tail(paths, lines) if lines else []:
        typer.echo(line)
    if not follow:
        return
    try:
        for line in follow_log(paths):
            typer.echo(line)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a follow ends


def _request_logs(
    paths: "RunPaths", service: str | None, order: int | None, lines: int, follow: bool
) -> None:
    from microshop.runtime import request_logs

    try:
        # An order's traces are found in every service's log, then shown for `service`.
        everything = request_logs.log_files(paths)
        shown = request_logs.log_files(paths, service) if service else everything
    except StartupError as exc:
        fail(str(exc))
    records = request_logs.read_records(everything if order is not None else shown)
    if order is not None:
        records = request_logs.order_path(records, order)
    names = {path.stem for path in shown}
    mine = [r for r in records if r.get("instance", r.get("service")) in names]
    for record in mine[-lines:] if lines else []:
        typer.echo(request_logs.describe(record))
    if not follow:
        return
    belongs = request_logs.OrderFilter(order, records) if order is not None else None
    try:
        for record in request_logs.follow_records(everything if order is not None else shown):
            if belongs is not None and not belongs(record):
                continue
            if record.get("instance", record.get("service")) in names:
                typer.echo(request_logs.describe(record))
    except KeyboardInterrupt:
        pass
