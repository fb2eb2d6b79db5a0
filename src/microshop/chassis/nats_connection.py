"""One way to reach NATS, for the event bus and the registry alike."""

from collections.abc import Awaitable, Callable

import nats
import structlog
from nats.aio.client import Client

log = structlog.get_logger()

Callback = Callable[[], Awaitable[None]]


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
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=quietly,
    )
