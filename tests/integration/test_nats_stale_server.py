"""A NATS server that stops answering without closing its connections (its host
partitioned away; here a real server frozen with SIGSTOP) is given up within
seconds, and the connection moves on to another server of the list. Without that,
a registry heartbeat sent through it stays silent past its TTL and every caller
drops a healthy instance (the cluster test's 15 s without an accepted order)."""

import asyncio
import os
import signal
from pathlib import Path

from microshop.chassis.nats_connection import connect_to_nats
from tests.support.servers import NATS_PY_LEAVES_A_SOCKET, embedded_nats_process

# Well under the registry's 10 s TTL, and far under nats-py's default of 4 minutes.
GIVEN_UP_WITHIN_S = 6.0


@NATS_PY_LEAVES_A_SOCKET
async def test_a_connection_moves_off_a_server_that_stops_answering(tmp_path: Path) -> None:
    async with (
        embedded_nats_process(str(tmp_path / "a")) as (a_url, a_pid),
        embedded_nats_process(str(tmp_path / "b")) as (b_url, b_pid),
    ):
        dropped, back = asyncio.Event(), asyncio.Event()

        async def on_disconnect() -> None:
            dropped.set()

        async def on_reconnect() -> None:
            back.set()

        nc = await connect_to_nats(
            [a_url, b_url], on_disconnect=on_disconnect, on_reconnect=on_reconnect, purpose="test"
        )
        pids = {a_url: a_pid, b_url: b_pid}
        first = f"nats://{nc.connected_url.netloc}" if nc.connected_url else ""
        frozen = pids[first]
        os.kill(frozen, signal.SIGSTOP)
        try:
            await asyncio.wait_for(back.wait(), GIVEN_UP_WITHIN_S)
            assert dropped.is_set()
            now = f"nats://{nc.connected_url.netloc}" if nc.connected_url else ""
            assert now != first and now in pids
            await nc.flush(timeout=2)  # a round trip through the other server
        finally:
            os.kill(frozen, signal.SIGCONT)
            await nc.close()
