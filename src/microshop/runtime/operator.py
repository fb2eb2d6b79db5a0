"""What the operator commands do to a running system: read and replay its dead
letters (`microshop events ...`) and list its unfinished sagas (`microshop saga list`).

    target = find_broker(RunPaths(Path(".microshop")), None, RuntimeSettings())
    letters = asyncio.run(dead_letters(target))
"""

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from microshop.chassis.bus import Bus, DeadLetter, connect_bus, quietly
from microshop.runtime.errors import StartupError
from microshop.runtime.reach import operator_headers, service_url
from microshop.runtime.settings import DEFAULT_BUS_PREFIX, RuntimeSettings
from microshop.runtime.state import RunPaths, read_state

# A broker that is down must fail the command, not hang it (the bus reconnects forever).
BROKER_TIMEOUT = 15.0
SAGAS_TIMEOUT = 10.0


@dataclass(frozen=True)
class BrokerTarget:
    url: str
    prefix: str


def find_broker(paths: RunPaths, broker: str | None, settings: RuntimeSettings) -> BrokerTarget:
    """--broker, else MICROSHOP_BROKER_URL, else the running system's state file."""
    state = read_state(paths)
    url = broker or settings.broker_url or (state and state.broker_url)
    if not url:
        raise StartupError(
            f"no broker: microshop is not running with data dir {paths.data_dir}; "
            "pass --broker nats://... or amqp://..."
        )
    prefix = settings.bus_prefix or (state and state.bus_prefix)
    return BrokerTarget(url, prefix or DEFAULT_BUS_PREFIX)


async def _with_bus(target: BrokerTarget, ids: set[str] | None, replay: bool) -> Any:
    try:
        bus: Bus = connect_bus(target.url, target.prefix)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    try:
        async with asyncio.timeout(BROKER_TIMEOUT):
            letters = await bus.dead_letters()  # also connects, which replay needs
            return await bus.replay(ids) if replay else letters
    except TimeoutError:
        raise StartupError(f"the broker did not answer within {BROKER_TIMEOUT:g} s") from None
    except OSError as exc:
        raise StartupError(f"cannot reach the broker: {exc}") from None
    finally:
        await quietly(bus.close)


async def dead_letters(target: BrokerTarget) -> list[DeadLetter]:
    letters: list[DeadLetter] = await _with_bus(target, None, replay=False)
    return letters


async def replay_dead_letters(target: BrokerTarget, ids: set[str] | None) -> int:
    """Puts the dead letters (those named by id or event id, or all) back on the bus."""
    replayed: int = await _with_bus(target, ids, replay=True)
    return replayed


async def unfinished_sagas(
    paths: RunPaths, stuck: float, settings: RuntimeSettings
) -> list[dict[str, Any]]:
    """The orders service's sagas not yet done, unchanged for at least `stuck` seconds."""
    url = f"{service_url(paths, 'orders')}/internal/sagas"
    timeout = aiohttp.ClientTimeout(total=SAGAS_TIMEOUT)
    credential = operator_headers(paths, settings)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, params={"stuck": str(stuck)}, headers=credential) as reply,
        ):
            body = await reply.json(content_type=None)
            if reply.status != 200:
                raise StartupError(f"the orders service answered {reply.status}: {body}")
            sagas: list[dict[str, Any]] = body
            return sagas
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise StartupError(f"cannot reach the orders service at {url}: {exc}") from None
