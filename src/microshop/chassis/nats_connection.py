"""One way to reach NATS, for the event bus and the registry alike."""

from collections.abc import Awaitable, Callable

import nats
import structlog
from nats.aio.client import Client

log = structlog.get_logger()

Callback = Callable[[], Awaitable[None]]

# A server that stops answering without closing the connection (its host cut off
# or partitioned away) is given up after this many seconds times three (two pings
# unanswered, the third due), and the connection moves to another server of the
# list. nats-py's default, 120 s, would leave a registry heartbeat silent past its
# 10 s TTL and drop a healthy instance from every caller's table.
PING_INTERVAL_S = 1
MAX_OUTSTANDING_PINGS = 2


async def connect_to_nats(
    urls: list[str], *, on_disconnect: Callback, on_reconnect: Callback, purpose: str
) -> Client:
    """A connection that reconnects for ever, every half second, and tells its owner
    when it drops and comes back (the owner reports itself unready meanwhile)."""

    async def quietly(exc: Exception) -> None:  # nats-py's default logs a traceback
        log.debug("nats connection error", purpose=purpose, error=repr(exc))

    return await nats.connect(
        servers=urls,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        ping_interval=PING_INTERVAL_S,
        max_outstanding_pings=MAX_OUTSTANDING_PINGS,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=quietly,
    )
