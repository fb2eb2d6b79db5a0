"""A registry that stalls (the NATS server frozen: connected, answering nothing, as
a JetStream cluster is while it elects a leader) is not a fleet that died: a watch
keeps its instances through the stall, and expires a silent one once the registry
answers again."""

import asyncio
import contextlib
import signal
from pathlib import Path

from microshop.chassis.registry import Instance, NatsRegistry
from tests.integration.test_registry_contract import EmbeddedNats, orders
from tests.support.bus import unique_prefix
from tests.support.servers import NATS_PY_LEAVES_A_SOCKET

TTL = 2.0


@NATS_PY_LEAVES_A_SOCKET
async def test_a_watch_keeps_its_instances_while_the_registry_is_frozen(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats")
    await server.start()
    assert server.proc is not None
    prefix = unique_prefix()
    registry = NatsRegistry([server.url], prefix=prefix, ttl=TTL)
    watcher = NatsRegistry([server.url], prefix=prefix, ttl=TTL)
    seen: list[list[Instance]] = []

    async def follow() -> None:
        async with contextlib.aclosing(watcher.watch("orders")) as changes:
            async for live in changes:
                seen.append(live)

    following = asyncio.create_task(follow())
    try:
        await registry.register(orders(1))  # once: no heartbeat follows
        for _ in range(40):  # bounded: 10 s, until the watch has seen it
            if seen and [i.instance for i in seen[-1]] == [orders(1).instance]:
                break
            await asyncio.sleep(0.25)
        assert [i.instance for i in seen[-1]] == [orders(1).instance]
        server.proc.send_signal(signal.SIGSTOP)
        await asyncio.sleep(TTL + 3.0)
        assert [i.instance for i in seen[-1]] == [orders(1).instance], "dropped in a stall"
        server.proc.send_signal(signal.SIGCONT)
        for _ in range(40):  # bounded: 10 s
            if seen[-1] == []:
                break
            await asyncio.sleep(0.25)
        assert seen[-1] == [], "a silent instance still expires once the registry answers"
    finally:
        server.proc.send_signal(signal.SIGCONT)
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await registry.close()
        await watcher.close()
        await server.stop()
