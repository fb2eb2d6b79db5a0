"""What every command group shares: the consoles, one-line failures, and the
options that mean the same in every command."""

import shutil
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from microshop.runtime.console import stderr_console, stdout_console

err = stderr_console()
out = stdout_console()

DEFAULT_DATA_DIR = Path(".microshop")

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="where databases, logs and run state live")
]
GatewayPort = Annotated[int, typer.Option("--port", help="the gateway's public port")]
PortBase = Annotated[
    int,
    typer.Option(
        "--service-port-base", help="envoy admin listens here, the services on the next ports"
    ),
]
Broker = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="nats://... or amqp://...; default: $MICROSHOP_BROKER_URL, "
        "else the running system's broker",
    ),
]


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(1)


def this_command() -> str:
    """How to type this command again, for the hints it prints: `microshop` when the
    PATH finds this very program (an activated venv), else its path (`.venv/bin/microshop`)."""
    program = Path(sys.argv[0])
    if program.name != "microshop":  # `python -m microshop`
        return "microshop"
    on_path = shutil.which("microshop")
    if on_path is not None and Path(on_path).resolve() == program.resolve():
        return "microshop"
    return str(program)
