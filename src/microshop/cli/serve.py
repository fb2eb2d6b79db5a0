"""`microshop serve <service>`: one service in this process."""

from typing import Annotated

import typer

from microshop.cli.common import fail
from microshop.runtime.errors import StartupError


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
