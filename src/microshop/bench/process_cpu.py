"""CPU and memory of the system under test, per named process, over the measured window.

A system names its processes by their root pid ("orders", "gateway", "nginx", ...);
every descendant counts under the name of its nearest named ancestor, so a
supervisor's services count as themselves and only its other children as it.

Each process is followed by (pid, start time): one that the supervisor restarted
during the window is a new process counted from zero, and one that exited keeps
what it had used when last seen. The trees are looked up again every few samples
only, because listing every process on the machine costs a few milliseconds of the
loop that, with the aiohttp engine, also times the requests.
"""

import asyncio
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import psutil

MIB = 1024 * 1024
PAGE = 4096
# /proc/<pid>/pagemap: one 64-bit entry per page; bit 63 "present", bits 0-54 the
# physical frame (zero unless the reader has CAP_SYS_ADMIN).
_PRESENT = 1 << 63
_FRAME = (1 << 55) - 1
# Above any user address: the vsyscall page, which pagemap does not describe.
_KERNEL_SPACE = 0xFFFF800000000000
# Deeper than any real tree; stops a walk on a (racy) cycle of parents.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Reading:
    cpu_s: float
    rss_bytes: int
    started_at: float  # seconds since the epoch, as psutil's create_time


class ProcessTable(Protocol):
    """The machine's processes: psutil here, a fake in tests."""

    def parents(self) -> dict[int, int]: ...  # pid -> parent pid, every process

    def read(self, pid: int) -> Reading | None: ...  # None: gone

    def pss_bytes(self, pid: int) -> int | None: ...

    def frames(self, pid: int) -> set[int] | None: ...  # resident physical pages


class PsutilTable:
    def parents(self) -> dict[int, int]:
        found = {}
        for process in psutil.process_iter(["ppid"]):
            if (ppid := process.info["ppid"]) is not None:
                found[process.pid] = ppid
        return found

    def read(self, pid: int) -> Reading | None:
        try:
            process = psutil.Process(pid)
            with process.oneshot():
                times = process.cpu_times()
                return Reading(
                    times.user + times.system, process.memory_info().rss, process.create_time()
                )
        except psutil.Error:
            return None

    def pss_bytes(self, pid: int) -> int | None:
        try:
            return int(psutil.Process(pid).memory_full_info().pss)
        except (psutil.Error, AttributeError):
            return None

    def frames(self, pid: int) -> set[int] | None:
        """The physical pages `pid` has resident; None where the frames cannot be
        read (not root: the kernel shows them as zero)."""
        found: set[int] = set()
        try:
            with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pages:
                for line in maps:
                    start, end = (int(x, 16) for x in line.split(maxsplit=1)[0].split("-"))
                    if start >= _KERNEL_SPACE:
                        continue
                    pages.seek(start // PAGE * 8)
                    entries = pages.read((end - start) // PAGE * 8)
                    found.update(
                        entry & _FRAME
                        for (entry,) in struct.iter_unpack("Q", entries)
                        if entry & _PRESENT
                    )
        except OSError:
            return None
        return None if found == {0} else found


def assign_names(roots: dict[int, str], parents: dict[int, int]) -> dict[int, str]:
    """Every living process in the roots' trees -> the name of its nearest named
    ancestor (itself included)."""
    named: dict[int, str] = {}
    for pid in parents:
        ancestor, depth = pid, 0
        while ancestor not in roots and depth < MAX_DEPTH:
            ancestor = parents.get(ancestor, 0)
            if ancestor <= 1:
                break
            depth += 1
        if ancestor in roots:
            named[pid] = roots[ancestor]
    return named


@dataclass
class _Followed:
    name: str
    baseline_s: float
    last_s: float


@dataclass(frozen=True)
class Memory:
    rss_bytes: int
    pss_bytes: int
    processes: int
    # Every physical page any of them has resident, each counted once: what the
    # whole system holds (None: the frames could not be read).
    resident_bytes: int | None = None


class ProcessWatch:
    """Samples the named processes of one system: begin(), sample() (or run()), end()."""

    def __init__(
        self,
        find_roots: Callable[[], dict[int, str]],
        table: ProcessTable | None = None,
        rediscover_every: int = 5,
    ) -> None:
        self._find_roots = find_roots
        self._table = table or PsutilTable()
        self._rediscover_every = rediscover_every
        self._names: dict[int, str] = {}
        self._root_names: dict[str, None] = {}
        self._followed: dict[tuple[int, float], _Followed] = {}
        self._samples = 0
        self._window_start = 0.0
        self.peak_rss_bytes = 0
        self.rss_by_name: dict[str, int] = {}
        self.processes = 0

    def _discover(self) -> None:
        roots = self._find_roots()
        self._root_names.update(dict.fromkeys(roots.values()))
        self._names = assign_names(roots, self._table.parents())

    def memory(self) -> Memory:
        """Summed RSS and PSS of every process right now, and the pages they hold
        between them (these cost: never in the measured window)."""
        self._discover()
        readings = [self._table.read(pid) for pid in self._names]
        rss = sum(reading.rss_bytes for reading in readings if reading)
        pss = sum(self._table.pss_bytes(pid) or 0 for pid in self._names)
        frames: set[int] | None = set()
        for pid in self._names:
            held = self._table.frames(pid)
            if held is None:
                frames = None
                break
            frames |= held
        resident = None if frames is None else len(frames) * PAGE
        return Memory(rss, pss, sum(1 for reading in readings if reading), resident)

    def begin(self) -> None:
        self._window_start = time.time()
        self._followed.clear()
        self._samples = 0
        self._discover()
        self._read_all(first=True)

    def sample(self) -> None:
        self._samples += 1
        if self._samples % self._rediscover_every == 0:
            self._discover()
        self._read_all(first=False)

    def end(self) -> None:
        self._discover()
        self._read_all(first=False)

    async def run(self, every: float = 1.0) -> None:
        while True:
            await asyncio.sleep(every)
            self.sample()

    def _read_all(self, first: bool) -> None:
        rss_total, rss_by_name, alive = 0, dict.fromkeys(self._root_names, 0), 0
        for pid, name in self._names.items():
            reading = self._table.read(pid)
            if reading is None:
                continue
            alive += 1
            rss_total += reading.rss_bytes
            rss_by_name[name] = rss_by_name.get(name, 0) + reading.rss_bytes
            key = (pid, reading.started_at)
            if (followed := self._followed.get(key)) is None:
                # Born in the window: all its CPU is the window's; else from now on.
                born_since = not first and reading.started_at >= self._window_start
                baseline = 0.0 if born_since else reading.cpu_s
                followed = self._followed[key] = _Followed(name, baseline, reading.cpu_s)
            followed.last_s = reading.cpu_s
        self.processes = alive
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss_total)
        for name, rss in rss_by_name.items():
            self.rss_by_name[name] = max(self.rss_by_name.get(name, 0), rss)

    def cpu_by_name(self) -> dict[str, float]:
        """CPU seconds per name between begin() and the last sample; every root name."""
        totals = dict.fromkeys(self._root_names, 0.0)
        for followed in self._followed.values():
            used = max(followed.last_s - followed.baseline_s, 0.0)
            totals[followed.name] = totals.get(followed.name, 0.0) + used
        return totals
