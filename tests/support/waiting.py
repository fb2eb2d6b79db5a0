"""Waiting for a condition, with a deadline, instead of sleeping a fixed time.

    await eventually(lambda: len(received) == 3)            # a plain check
    order = await eventually(lambda: finished(order_id))   # an async one: its value
    wait_until(lambda: process_is_up(pid), timeout=5)      # in a test without a loop

The check is tried at once, then every `interval` seconds until it gives something
truthy, which is returned; at the deadline the test fails with `message`.
"""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    timeout: float = 15.0,
    *,
    interval: float = 0.05,
    message: str = "condition not met in time",
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout:g} s)")
        await asyncio.sleep(interval)


def wait_until(
    check: Callable[[], T],
    timeout: float = 15.0,
    *,
    interval: float = 0.05,
    message: str = "condition not met in time",
) -> T:
    """`eventually` for a test that runs no event loop (it blocks the thread)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout:g} s)")
        time.sleep(interval)
    return value
