"""The `microshop` command."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape

from microshop.bench.cli import bench_app
from microshop.runtime.console import OPEN_MODE_WARNING, stderr_console, stdout_console
from microshop.runtime.errors import StartupError

if TYPE_CHECKING:
    from microshop.runtime.system import UpOptions

app = typer.Typer(
    help="microshop: an e-commerce platform built as real microservices.", no_args_is_help=True
)
gateway_app = typer.Typer(help="The edge gateway (Envoy).", no_args_is_help=True)
app.add_typer(gateway_app, name="gateway")
# `microshop bench`: its module imports only typer and rich until a run starts.
app.add_typer(bench_app, name="bench")
events_app = typer.Typer(
    help="The event bus: dead letters and the event catalogue.", no_args_is_help=True
)
app.add_typer(events_app, name="events")
saga_app = typer.Typer(help="The order sagas run by the orders service.", no_args_is_help=True)
app.add_typer(saga_app, name="saga")
deploy_app = typer.Typer(help="Docker Compose and Kubernetes files.", no_args_is_help=True)
app.add_typer(deploy_app, name="deploy")
err = stderr_console()
out = stdout_console()

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="where databases, logs and run state live")
]
GatewayPort = Annotated[int, typer.Option("--port", help="the gateway's public port")]
Broker = Annotated[
    str | None,
    typer.Option(
        "--broker",
        envvar="MICROSHOP_BROKER_URL",
        help="nats://... or amqp://...; default: the running system's broker",
    ),
]
PortBase = Annotated[
    int,
    typer.Option(
        "--service-port-base", help="envoy admin listens here, the services on the next ports"
    ),
]


@app.callback()
def main() -> None:
    """microshop: an e-commerce platform built as real microservices."""


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(1)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="users, catalog, orders, ...")],
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
) -> None:
    """Run one service in this process (as a container would)."""
    # Imported here: the other commands need neither FastAPI nor a database driver.
    from microshop.runtime.serve import serve as serve_service

    try:
        serve_service(service, host, port)
    except StartupError as exc:
        fail(str(exc))


@app.command()
def up(
    open_mode: Annotated[
        bool, typer.Option("--open", help="no authentication: the chapter's tutorial mode")
    ] = False,
    detach: Annotated[
        bool, typer.Option("--detach", help="run in the background; stop with `microshop down`")
    ] = False,
    data_dir: DataDir = Path(".microshop"),
    port: GatewayPort = 8080,
    service_port_base: PortBase = 8100,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            envvar="MICROSHOP_BROKER_URL",
            help="use this broker (nats://... or amqp://...) instead of starting NATS",
        ),
    ] = None,
) -> None:
    """Start NATS, every service and the gateway on this machine."""
    from microshop.gateway.ratelimit import InvalidRateLimit, rate_limit_from_env
    from microshop.runtime.supervisor import run_supervisor
    from microshop.runtime.system import UpOptions

    try:
        rate_limit = rate_limit_from_env()
    except InvalidRateLimit as exc:
        fail(f"MICROSHOP_RATE_LIMIT: {exc}")
    options = UpOptions(
        data_dir.resolve(), port, service_port_base, open_mode, rate_limit, broker or None
    )
    if detach:
        if open_mode:
            err.print(f"[bold red]WARNING: {OPEN_MODE_WARNING}[/]")
        _up_detached(options)
        return
    try:
        run_supervisor(options)
    except StartupError as exc:
        fail(str(exc))


def _up_detached(options: "UpOptions") -> None:
    from microshop.runtime import console
    from microshop.runtime.control import DetachedStartFailed, start_detached

    try:
        state = start_detached(options)
    except DetachedStartFailed as exc:
        err.print(f"[dim]last lines of {options.paths.log_file}:[/]")
        for line in exc.log_tail:
            if line.removeprefix("error: ") != str(exc):  # printed once, last, below
                err.print(escape(line))
        fail(str(exc))
    except StartupError as exc:
        fail(str(exc))
    everything = dict.fromkeys(state.processes, True)
    out.print(console.process_table(state, dict(everything), everything))
    console.print_summary(out, state, options.paths)
    out.print(f"  [bold]{'stop with':<12}[/] microshop down --data-dir {options.data_dir}")


@app.command()
def down(data_dir: DataDir = Path(".microshop")) -> None:
    """Stop a system started with `microshop up` (foreground or detached)."""
    from microshop.runtime.control import stop_system
    from microshop.runtime.state import RunPaths

    report = stop_system(RunPaths(data_dir.resolve()))
    out.print(report.message)


@app.command()
def status(data_dir: DataDir = Path(".microshop")) -> None:
    """Show each process of a running system: pid, port, alive, health."""
    from microshop.runtime import console
    from microshop.runtime.control import system_status
    from microshop.runtime.state import RunPaths

    paths = RunPaths(data_dir.resolve())
    try:
        state, health, alive = system_status(paths)
    except StartupError as exc:
        fail(str(exc))
    out.print(console.process_table(state, health, alive))
    out.print(f"  [bold]{'supervisor':<12}[/] pid {state.supervisor_pid}, {state.status}")
    console.print_summary(out, state, paths)
    if not (all(alive.values()) and all(health.values())):
        raise typer.Exit(1)


@gateway_app.command("config")
def gateway_config(port: GatewayPort = 8080, service_port_base: PortBase = 8100) -> None:
    """Print the Envoy configuration `microshop up` would run (JSON, which is valid YAML)."""
    from microshop.gateway.envoy_config import render_envoy_config
    from microshop.gateway.ratelimit import InvalidRateLimit, rate_limit_from_env
    from microshop.runtime.system import UpOptions, build_gateway

    try:
        rate_limit = rate_limit_from_env()
        plan = UpOptions(Path(".microshop"), port, service_port_base).port_plan()
    except (InvalidRateLimit, StartupError) as exc:
        fail(str(exc))
    config = render_envoy_config(build_gateway(plan, rate_limit))
    typer.echo(json.dumps(config, indent=2))


@events_app.command("dead-letters")
def events_dead_letters(data_dir: DataDir = Path(".microshop"), broker: Broker = None) -> None:
    """List the events no consumer could handle after every retry."""
    import asyncio

    from microshop.runtime import console, operator
    from microshop.runtime.state import RunPaths

    try:
        target = operator.find_broker(RunPaths(data_dir.resolve()), broker)
        letters = asyncio.run(operator.dead_letters(target))
    except StartupError as exc:
        fail(str(exc))
    if not letters:
        out.print(
            f"no dead letters ({console.without_password(target.url)}, prefix {target.prefix})"
        )
        return
    out.print(console.dead_letter_table(letters))


@events_app.command("replay-dead-letters")
def events_replay_dead_letters(
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="a dead letter id or event id; default: all")
    ] = None,
    data_dir: DataDir = Path(".microshop"),
    broker: Broker = None,
) -> None:
    """Put dead letters back on the bus for their consumers to try again."""
    import asyncio

    from microshop.runtime import operator
    from microshop.runtime.state import RunPaths

    try:
        target = operator.find_broker(RunPaths(data_dir.resolve()), broker)
        replayed = asyncio.run(operator.replay_dead_letters(target, set(ids) if ids else None))
    except StartupError as exc:
        fail(str(exc))
    out.print(f"replayed {replayed} dead letter(s)")


@events_app.command("docs")
def events_docs() -> None:
    """Print the event catalogue (docs/events.md), generated from the contracts."""
    from microshop.tools.eventdocs import render

    typer.echo(render(), nl=False)


@saga_app.command("list")
def saga_list(
    stuck: Annotated[
        float, typer.Option("--stuck", min=0, help="only sagas unchanged for this many seconds")
    ] = 0,
    data_dir: DataDir = Path(".microshop"),
) -> None:
    """List the unfinished order sagas of a running system."""
    import asyncio

    from microshop.runtime import console, operator
    from microshop.runtime.state import RunPaths

    try:
        sagas = asyncio.run(operator.unfinished_sagas(RunPaths(data_dir.resolve()), stuck))
    except StartupError as exc:
        fail(str(exc))
    if not sagas:
        out.print("no unfinished sagas")
        return
    out.print(console.saga_table(sagas))


@deploy_app.command("write")
def deploy_write(
    folder: Annotated[Path, typer.Option("--to", help="where to write")] = Path("deploy"),
) -> None:
    """Regenerate compose.yaml, kubernetes.yaml, envoy.json and postgres-init.sql."""
    from microshop.tools.deploy import write

    for path in write(folder):
        out.print(f"wrote {path}")
