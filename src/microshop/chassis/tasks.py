"""Stopping background tasks for certain.

Python 3.11's `asyncio.wait_for` swallows a cancellation that arrives just as the
awaited thing completes (fixed in 3.12), and nats-py waits that way inside every
fetch and watch. A loop around such a call then never ends, and a service that
awaited it on SIGTERM hung until it was killed (seen: one `microshop down` in
three took 10 s). So a task is cancelled again until it ends, within a bound.

    await stop_tasks([relay_task, watch_task])
"""

import asyncio
from collections.abc import Iterable

import structlog

log = structlog.get_logger()

STOP_WITHIN_S = 3.0
# How often a task that swallowed its cancellation is cancelled again.
RECANCEL_EVERY_S = 0.05


async def stop_tasks(
    tasks: Iterable[asyncio.Task[object] | None], within: float = STOP_WITHIN_S
) -> None:
    """Cancels each task, again and again if it keeps running, and waits for all of
    them to end (at most `within` seconds). Their results and errors are dropped."""
    pending = {task for task in tasks if task is not None and not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_EVERY_S)
    for task in pending:
        log.warning("a background task did not stop", task=task.get_name())
