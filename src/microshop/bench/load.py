"""The load loop: closed-loop (N workers, each sends its next request when the last one
is answered) or open-loop (requests leave on a fixed schedule whether or not earlier
ones were answered), always bounded by time and by count.

Open-loop latency is measured from when a request was due, not from when it left, so a
stalled system cannot hide its queueing delay (coordinated omission).
"""

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import urlsplit

import aiohttp

from microshop.bench.histogram import LatencyHistogram
from microshop.bench.scenarios import Request, Shop, build_request, outcome

MAX_DURATION_S = 600.0
MAX_CONCURRENCY = 1024
MAX_RATE = 50_000.0
MAX_REQUESTS = 5_000_000
# Open loop: past this many unanswered requests the client stops sending and counts
# the rest as dropped, rather than grow without bound.
MAX_IN_FLIGHT = 2048
DROPPED = "dropped: too many in flight"


class InvalidPlan(ValueError):
    pass


@dataclass(frozen=True)
class LoadPlan:
    duration_s: float
    concurrency: int = 16
    rate: float | None = None
    max_requests: int = MAX_REQUESTS
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.duration_s <= MAX_DURATION_S:
            raise InvalidPlan(f"duration must be in (0, {MAX_DURATION_S:g}] s")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise InvalidPlan(f"concurrency must be in [1, {MAX_CONCURRENCY}]")
        if self.rate is not None and not 0 < self.rate <= MAX_RATE:
            raise InvalidPlan(f"rate must be in (0, {MAX_RATE:g}] requests/s")
        if not 1 <= self.max_requests <= MAX_REQUESTS:
            raise InvalidPlan(f"max requests must be in [1, {MAX_REQUESTS}]")
        if not 0 < self.timeout_s <= 120:
            raise InvalidPlan("timeout must be in (0, 120] s")

    @property
    def mode(self) -> str:
        return "closed" if self.rate is None else "open"

    def describe(self) -> str:
        if self.rate is None:
            return f"closed loop, concurrency {self.concurrency}"
        return f"open loop, {self.rate:g} req/s"


def require_loopback(url: str) -> str:
    """The benchmark only ever loads this machine."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidPlan(f"refusing to load {url!r}: loopback addresses only")
    return url.rstrip("/")


@dataclass
class KindStats:
    latencies: LatencyHistogram = field(default_factory=LatencyHistogram)
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class Recorder:
    """Counts and latencies per request kind; read live by the progress display."""

    def __init__(self, kinds: tuple[str, ...]) -> None:
        self.kinds = {kind: KindStats() for kind in kinds}
        self.ok = 0
        self.failed = 0
        self.in_flight = 0

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        stats = self.kinds[kind]
        if error is None:
            stats.ok += 1
            self.ok += 1
            stats.latencies.record(seconds)
        else:
            stats.errors[error] += 1
            self.failed += 1


@dataclass(frozen=True)
class LoadOutcome:
    measured_s: float
    sent: int
    capped: bool


async def attempt(session: aiohttp.ClientSession, request: Request) -> str | None:
    """One request: None when it counts, else why not (a status or an exception)."""
    try:
        async with session.request(
            request.method, request.url, data=request.body, headers=request.headers
        ) as response:
            body = await response.read()
    except TimeoutError:
        return "timeout"
    except aiohttp.ClientError as exc:
        return type(exc).__name__
    return outcome(request, response.status, body)


def new_session(plan: LoadPlan) -> aiohttp.ClientSession:
    """One shared connection pool, as large as the load needs."""
    size = plan.concurrency if plan.rate is None else MAX_IN_FLIGHT
    connector = aiohttp.TCPConnector(limit=size, limit_per_host=0, force_close=False)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=plan.timeout_s)
    )


async def run_load(
    session: aiohttp.ClientSession, shop: Shop, scenario: str, plan: LoadPlan, recorder: Recorder
) -> LoadOutcome:
    if plan.rate is None:
        return await _closed_loop(session, shop, scenario, plan, recorder)
    return await _open_loop(session, shop, scenario, plan, recorder)


async def _closed_loop(
    session: aiohttp.ClientSession, shop: Shop, scenario: str, plan: LoadPlan, recorder: Recorder
) -> LoadOutcome:
    started = time.perf_counter()
    deadline = started + plan.duration_s
    sequence = itertools.count()
    sent = 0

    async def worker() -> None:
        nonlocal sent
        while time.perf_counter() < deadline:
            number = next(sequence)
            if number >= plan.max_requests:
                return
            sent += 1
            request = build_request(shop, scenario, number)
            recorder.in_flight += 1
            began = time.perf_counter()
            error = await attempt(session, request)
            recorder.in_flight -= 1
            recorder.record(request.kind, time.perf_counter() - began, error)

    await asyncio.gather(*(worker() for _ in range(plan.concurrency)))
    return LoadOutcome(time.perf_counter() - started, sent, sent >= plan.max_requests)


async def _open_loop(
    session: aiohttp.ClientSession, shop: Shop, scenario: str, plan: LoadPlan, recorder: Recorder
) -> LoadOutcome:
    assert plan.rate is not None
    interval = 1.0 / plan.rate
    started = time.perf_counter()
    deadline = started + plan.duration_s
    in_flight: set[asyncio.Task[None]] = set()

    async def one(request: Request, due: float) -> None:
        recorder.in_flight += 1
        error = await attempt(session, request)
        recorder.in_flight -= 1
        recorder.record(request.kind, time.perf_counter() - due, error)

    sent = 0
    for number in range(plan.max_requests):
        due = started + number * interval
        if due >= deadline:
            break
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        request = build_request(shop, scenario, number)
        if len(in_flight) >= MAX_IN_FLIGHT:
            recorder.record(request.kind, 0.0, DROPPED)
            continue
        sent += 1
        task = asyncio.create_task(one(request, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    capped = sent >= plan.max_requests
    if in_flight:
        await asyncio.wait(in_flight, timeout=plan.timeout_s + 5)
    leftovers = list(in_flight)
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
    return LoadOutcome(min(time.perf_counter(), deadline) - started, sent, capped)
