"""`microshop saga list`: the order sagas of a running system."""

from typing import Annotated

import typer

from microshop.cli.common import DEFAULT_DATA_DIR, DataDir, fail, out
from microshop.runtime.errors import StartupError

saga_app = typer.Typer(help="The order sagas run by the orders service.", no_args_is_help=True)


@saga_app.command("list")
def list_sagas(
    stuck: Annotated[
        float, typer.Option("--stuck", min=0, help="only sagas unchanged for this many seconds")
    ] = 0,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """List the unfinished order sagas of a running system."""
    import asyncio

    from microshop.runtime import console, operator
    from microshop.runtime.settings import RuntimeSettings
    from microshop.runtime.state import RunPaths

    paths = RunPaths(data_dir.resolve())
    try:
        sagas = asyncio.run(operator.unfinished_sagas(paths, stuck, RuntimeSettings()))
    except StartupError as exc:
        fail(str(exc))
    if not sagas:
        out.print("no unfinished sagas")
        return
    out.print(console.saga_table(sagas))
