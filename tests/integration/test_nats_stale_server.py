"""A NATS server that stops answering without closing its connections (its host
partitioned away; here a real server frozen with SIGSTOP) is given up within
seconds, and the connection moves on to another server of the list. Without that,
a registry heartbeat sent through it stays silent past its TTL and every caller
drops a healthy instance (the cluster test's 15 s without an accepted order)."""

import asyncio
import signal
from pathlib import Path

from microshop.chassis.nats_connection import connect_to_nats
from tests.integration.test_registry_contract import EmbeddedNats
from tests.support.servers import NATS_PY_LEAVES_A_SOCKET

# Well under the registry's 10 s TTL, and far under nats-py's default of 4 minutes.
GIVEN_UP_WITHIN_S = 6.0


@NATS_PY_LEAVES_A_SOCKET
async def test_a_connection_moves_off_a_server_that_stops_answering(tmp_path: Path) -> None:
    servers = [EmbeddedNats(tmp_path / "a"), EmbeddedNats(tmp_path / "b")]
    try:
        for server in servers:
            await server.start()
        await _moves_off_the_frozen_one({server.url: server for server in servers})
    finally:
        for server in servers:
            await server.stop()  # SIGKILL ends a stopped process too


async def _moves_off_the_frozen_one(by_url: dict[str, EmbeddedNats]) -> None:
    dropped, back = asyncio.Event(), asyncio.Event()

    async def on_disconnect() -> None:
        dropped.set()

    async def on_reconnect() -> None:
        back.set()

    nc = await connect_to_nats(
        list(by_url), on_disconnect=on_disconnect, on_reconnect=on_reconnect, purpose="test"
    )
    try:
        first = f"nats://{nc.connected_url.netloc}" if nc.connected_url else ""
        frozen = by_url[first].proc
        assert frozen is not None
        frozen.send_signal(signal.SIGSTOP)
        try:
            await asyncio.wait_for(back.wait(), GIVEN_UP_WITHIN_S)
            assert dropped.is_set()
            now = f"nats://{nc.connected_url.netloc}" if nc.connected_url else ""
            assert now != first and now in by_url
            await nc.flush(timeout=2)  # a round trip through the other server
        finally:
            frozen.send_signal(signal.SIGCONT)
    finally:
        await nc.close()
