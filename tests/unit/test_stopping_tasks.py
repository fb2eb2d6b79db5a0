"""Background tasks stop on shutdown, also one that swallows its first cancellation
(as Python 3.11's wait_for does when the cancellation meets a result)."""

import asyncio

from microshop.chassis.tasks import stop_tasks


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again_until_it_ends() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed == 1:
                    continue  # the first one is lost, as inside wait_for
                raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await stop_tasks([task, None], within=2.0)
    assert task.cancelled() and swallowed == 2
