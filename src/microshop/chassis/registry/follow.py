"""Following the registry for as long as a process runs: every list of live instances
the watch yields goes to `apply`; a watch that fails is opened again, with backoff.

    task = asyncio.create_task(follow(registry, table.replace, "discovery"))
"""

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from microshop.chassis.backoff import backoff
from microshop.chassis.registry.model import Instance, Registry

log = structlog.get_logger()


async def follow(
    registry: Registry,
    apply: Callable[[list[Instance]], None],
    who: str,
    service: str | None = None,
) -> None:
    """Runs until cancelled; `who` names the follower in the log."""
    failures = 0
    while True:
        try:
            async with contextlib.aclosing(registry.watch(service)) as changes:
                async for live in changes:
                    failures = 0
                    apply(live)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            delay = backoff(failures, base=0.5, cap=5.0)
            log.warning(
                "registry watch failed, retrying", follower=who, error=repr(exc), in_s=delay
            )
            await asyncio.sleep(delay)
