"""`microshop services`, `microshop scale` and `microshop chaos`: the instances of a
running system, how many of each, and breaking them on purpose."""

import asyncio
import json
from collections.abc import Coroutine
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from microshop.cli.common import DEFAULT_DATA_DIR, DataDir, err, fail, out
from microshop.runtime.errors import StartupError

chaos_app = typer.Typer(
    help="Break a part of a running system on purpose, and heal it.", no_args_is_help=True
)
Target = Annotated[str, typer.Argument(help="<service> or <service>/<instance>, e.g. orders/2")]


def _bad_target(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(2)


def _run(work: Coroutine[Any, Any, str]) -> None:
    from microshop.runtime.fleet_client import BadTarget

    try:
        out.print(asyncio.run(work))
    except BadTarget as exc:
        _bad_target(str(exc))
    except StartupError as exc:
        fail(str(exc))


def _paths(data_dir: Any) -> Any:
    from microshop.runtime.state import RunPaths

    return RunPaths(data_dir.resolve())


def services(
    as_json: Annotated[
        bool, typer.Option("--json", help="a JSON array, one object per instance")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Every instance of a running system, from its registry."""
    from microshop.runtime.fleet_client import instance_rows
    from microshop.runtime.settings import RuntimeSettings

    try:
        rows = asyncio.run(instance_rows(_paths(data_dir), RuntimeSettings()))
    except StartupError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
        return
    table = Table(
        "service", "instance", "address", "port", "healthy", "version", "uptime", "served"
    )
    for row in sorted(rows, key=lambda r: (r.service, r.instance)):
        table.add_row(
            row.service,
            row.instance,
            row.address,
            str(row.port),
            "yes" if row.healthy else "[red]no[/]",
            row.version,
            f"{row.uptime_s:.0f} s" if row.uptime_s is not None else "",
            str(row.served) if row.served is not None else "",
        )
    out.print(table)


def scale(
    wanted: Annotated[str, typer.Argument(help="<service>=<instances>, e.g. catalog=3")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Run this many instances of a service (down: drain, then stop)."""
    from microshop.runtime.fleet_client import ask_supervisor
    from microshop.runtime.settings import RuntimeSettings

    service, _, count = wanted.partition("=")
    if not count.isdigit():
        _bad_target(f"give <service>=<instances>, e.g. catalog=3 (not {wanted!r})")
    body = {"service": service, "replicas": int(count)}
    _run(ask_supervisor(_paths(data_dir), RuntimeSettings(), "/scale", body))


def _supervised(action: str, target: str, data_dir: Any, seconds: float = 10.0) -> None:
    from microshop.runtime.fleet_client import ask_supervisor
    from microshop.runtime.settings import RuntimeSettings

    body = {"action": action, "target": target, "seconds": seconds}
    _run(ask_supervisor(_paths(data_dir), RuntimeSettings(), "/chaos", body))


def _faults(
    target: str | None, data_dir: Any, delay_ms: int = 0, fail_percent: float = 0.0
) -> None:
    from microshop.runtime.fleet_client import set_faults
    from microshop.runtime.settings import RuntimeSettings

    _run(set_faults(_paths(data_dir), RuntimeSettings(), target, delay_ms, fail_percent))


@chaos_app.command()
def kill(target: Target, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """SIGKILL it; the supervisor restarts it, as after any crash."""
    _supervised("kill", target, data_dir)


@chaos_app.command()
def stop(target: Target, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """SIGKILL it and keep it down; it leaves the registry within its TTL."""
    _supervised("stop", target, data_dir)


@chaos_app.command()
def start(target: Target, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Bring back what `chaos stop` took down."""
    _supervised("start", target, data_dir)


@chaos_app.command()
def pause(
    target: Target,
    for_: Annotated[str, typer.Option("--for", help="how long, e.g. 10s")] = "10s",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """SIGSTOP it for a while, then SIGCONT: alive, but answering nothing."""
    text = for_.strip().removesuffix("s")
    try:
        seconds = float(text)
    except ValueError:
        _bad_target(f"--for takes seconds, e.g. 10s (not {for_!r})")
    _supervised("pause", target, data_dir, seconds)


@chaos_app.command("delay")
def delay(
    target: Target,
    ms: Annotated[
        int, typer.Argument(min=0, max=60_000, help="milliseconds added to every request")
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Add latency to every request it serves (health checks excepted)."""
    _faults(target, data_dir, delay_ms=ms)


@chaos_app.command("fail")
def fail_(
    target: Target,
    percent: Annotated[
        float, typer.Argument(min=0, max=100, help="share of requests answered 500")
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Answer this share of its requests with a 500."""
    _faults(target, data_dir, fail_percent=percent)


@chaos_app.command()
def heal(
    target: Annotated[
        str | None, typer.Argument(help="a service or instance; default: all")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Undo every injected delay and failure."""
    _faults(target, data_dir)
