"""Health polls over HTTP (aiohttp, as every microshop service-to-service call)."""

import asyncio
import time
from collections.abc import Callable

import aiohttp

POLL_INTERVAL = 0.2


async def is_healthy(session: aiohttp.ClientSession, url: str, timeout: float = 2.0) -> bool:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as reply:
            await reply.read()
            return reply.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def wait_until_healthy(
    session: aiohttp.ClientSession,
    url: str,
    timeout: float,
    give_up: Callable[[], bool] = lambda: False,
) -> bool:
    """True once `url` answers 200; False after `timeout` seconds or when `give_up()`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not give_up():
        if await is_healthy(session, url, timeout=min(2.0, max(0.1, deadline - time.monotonic()))):
            return True
        await asyncio.sleep(POLL_INTERVAL)
    return False


async def check_all(urls: dict[str, str]) -> dict[str, bool]:
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(is_healthy(session, url) for url in urls.values()))
    return dict(zip(urls, results, strict=True))
