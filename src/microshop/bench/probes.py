"""What a run costs beyond the system under test (the load generator's CPU, the whole
machine's), and how many order sagas are still unfinished. The system's own processes:
process_cpu.py.
"""

import asyncio
import contextlib
import resource
import time
from dataclasses import dataclass, field

import aiohttp
import psutil


def generator_cpu_s() -> float:
    """This process and its children that have exited and been waited for: the aiohttp
    engine runs in here, each wrk run is such a child by the time it is counted."""
    own = psutil.Process().cpu_times()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(own.user + own.system + children.ru_utime + children.ru_stime)


def machine_busy_s() -> float:
    """CPU seconds all cores spent on anything but idling, since boot."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


@dataclass
class SagaWatch:
    """Counts unfinished sagas through the orders service's operator route."""

    sagas_url: str
    headers: dict[str, str] = field(default_factory=dict)
    every: float = 5.0
    samples: list[tuple[float, int]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    async def count(self, session: aiohttp.ClientSession) -> int | None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            async with session.get(self.sagas_url, headers=self.headers) as response:
                if response.status == 200:
                    return len(await response.json())
        return None

    async def sample(self, session: aiohttp.ClientSession) -> int | None:
        unfinished = await self.count(session)
        if unfinished is not None:
            self.samples.append((round(time.monotonic() - self.started, 1), unfinished))
        return unfinished

    async def run(self, session: aiohttp.ClientSession) -> None:
        while True:
            await self.sample(session)
            await asyncio.sleep(self.every)

    async def drain(self, session: aiohttp.ClientSession, timeout: float) -> float | None:
        """Seconds until no saga is left unfinished, or None if some still were at timeout."""
        began = time.monotonic()
        while time.monotonic() - began <= timeout:
            if await self.count(session) == 0:
                return round(time.monotonic() - began, 1)
            await asyncio.sleep(0.5)
        return None
