"""`microshop events ...`: the dead letters of the event bus, and its catalogue."""

from typing import Annotated

import typer

from microshop.cli.common import DEFAULT_DATA_DIR, Broker, DataDir, fail, out
from microshop.runtime.errors import StartupError

events_app = typer.Typer(
    help="The event bus: dead letters and the event catalogue.", no_args_is_help=True
)


@events_app.command("dead-letters")
def dead_letters(data_dir: DataDir = DEFAULT_DATA_DIR, broker: Broker = None) -> None:
    """List the events no consumer could handle after every retry."""
    import asyncio

    from microshop.runtime import console, operator
    from microshop.runtime.settings import RuntimeSettings
    from microshop.runtime.state import RunPaths

    try:
        target = operator.find_broker(RunPaths(data_dir.resolve()), broker, RuntimeSettings())
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
def replay_dead_letters(
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="a dead letter id or event id; default: all")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    broker: Broker = None,
) -> None:
    """Put dead letters back on the bus for their consumers to try again."""
    import asyncio

    from microshop.runtime import operator
    from microshop.runtime.settings import RuntimeSettings
    from microshop.runtime.state import RunPaths

    try:
        target = operator.find_broker(RunPaths(data_dir.resolve()), broker, RuntimeSettings())
        replayed = asyncio.run(operator.replay_dead_letters(target, set(ids) if ids else None))
    except StartupError as exc:
        fail(str(exc))
    out.print(f"replayed {replayed} dead letter(s)")


@events_app.command("docs")
def docs() -> None:
    """Print the event catalogue (docs/events.md), generated from the contracts."""
    from microshop.tools.eventdocs import render

    typer.echo(render(), nl=False)
