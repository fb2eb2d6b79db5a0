"""What the system under test costs while it is loaded: CPU seconds and resident memory of
all its processes (and of the load generator itself), and how many order sagas are
still unfinished.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import psutil

MIB = 1024 * 1024


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    rss_bytes: int
    processes: int

    @property
    def rss_mib(self) -> float:
        return self.rss_bytes / MIB


class ProcessGroup:
    """The processes of one system, looked up again at every sample: a service the
    supervisor restarted has a new pid."""

    def __init__(self, find_pids: Callable[[], list[int]]) -> None:
        self._find_pids = find_pids
        self._known: dict[int, psutil.Process] = {}

    def processes(self) -> list[psutil.Process]:
        alive = []
        for pid in self._find_pids():
            process = self._known.get(pid)
            try:
                process = process or psutil.Process(pid)
                if process.is_running():
                    alive.append(process)
                    self._known[pid] = process
            except psutil.Error:
                continue
        return alive

    def proportional_mib(self) -> float:
        """Summed PSS: each shared page divided among the processes that map it, so
        the interpreter and libraries loaded by every service count once in total."""
        pss = 0
        for process in self.processes():
            with contextlib.suppress(psutil.Error, AttributeError):
                pss += process.memory_full_info().pss
        return pss / MIB

    def usage(self) -> Usage:
        cpu, rss, count = 0.0, 0, 0
        for process in self.processes():
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    cpu += times.user + times.system
                    rss += process.memory_info().rss
                count += 1
            except psutil.Error:
                continue
        return Usage(cpu, rss, count)


def with_descendants(pids: list[int]) -> list[int]:
    """The given processes and all their children (nginx workers, a supervisor's services)."""
    found: dict[int, None] = {}
    for pid in pids:
        try:
            parent = psutil.Process(pid)
            found[pid] = None
            found.update(dict.fromkeys(child.pid for child in parent.children(recursive=True)))
        except psutil.Error:
            continue
    return list(found)


def own_cpu_s() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def machine_busy_s() -> float:
    """CPU seconds all cores spent on anything but idling, since boot."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


@dataclass
class UsageWatch:
    """Samples a process group every `every` seconds; keeps the peak memory."""

    group: ProcessGroup
    every: float = 1.0
    peak_rss_bytes: int = 0
    first: Usage | None = None
    last: Usage | None = None

    def sample(self) -> Usage:
        usage = self.group.usage()
        self.first = self.first or usage
        self.last = usage
        self.peak_rss_bytes = max(self.peak_rss_bytes, usage.rss_bytes)
        return usage

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.sample()

    @property
    def cpu_s(self) -> float:
        if self.first is None or self.last is None:
            return 0.0
        return max(self.last.cpu_s - self.first.cpu_s, 0.0)


@dataclass
class SagaWatch:
    """Counts unfinished sagas through the orders service's operator route."""

    sagas_url: str
    every: float = 5.0
    samples: list[tuple[float, int]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    async def count(self, session: aiohttp.ClientSession) -> int | None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            async with session.get(self.sagas_url) as response:
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
