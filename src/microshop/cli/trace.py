"""`microshop trace <order id>`: an order's trace, span by span, as /ops draws it."""

from typing import Annotated

import typer

from microshop.cli.common import DEFAULT_DATA_DIR, DataDir, fail, out
from microshop.runtime.errors import StartupError


def trace(
    order_id: Annotated[int, typer.Argument(min=1, help="the order's id")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Print the traces the ops service keeps of an order: each span under its parent."""
    import asyncio

    from microshop.runtime.settings import RuntimeSettings
    from microshop.runtime.state import RunPaths
    from microshop.runtime.traces import order_traces, trace_lines

    try:
        traces = asyncio.run(
            order_traces(RunPaths(data_dir.resolve()), order_id, RuntimeSettings())
        )
    except StartupError as exc:
        fail(str(exc))
    if not traces:
        out.print(
            f"no trace of order {order_id} is kept (not sampled, or older than the last traces)"
        )
        return
    for spans in traces:
        services = sorted({s["service"] for s in spans})
        typer.echo(f"trace {spans[0]['trace_id']}: {len(spans)} spans from {', '.join(services)}")
        for line in trace_lines(spans):
            typer.echo(line)
