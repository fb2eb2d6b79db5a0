"""The `microshop` command."""

from typing import Annotated

import typer
from rich.console import Console

from microshop.runtime.serve import StartupError
from microshop.runtime.serve import serve as serve_service

app = typer.Typer(
    help="microshop: an e-commerce platform built as real microservices.", no_args_is_help=True
)
err = Console(stderr=True)


@app.callback()
def main() -> None:
    """microshop: an e-commerce platform built as real microservices."""


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="users, catalog, orders, ...")],
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
) -> None:
    """Run one service in this process (as a container would)."""
    try:
        serve_service(service, host, port)
    except StartupError as exc:
        fail(str(exc))
