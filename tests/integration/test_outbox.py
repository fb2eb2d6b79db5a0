"""The transactional outbox, with the catalog as producer and a real broker."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from microshop.chassis.bus import connect_bus
from microshop.chassis.data import Query, open_database
from microshop.chassis.event_tables import metadata, outbox
from microshop.chassis.outbox import OutboxRelay, record_event
from microshop.contracts.events import ProductCreated
from microshop.services.catalog.main import CatalogSettings, build_app
from tests.support.asgi import free_port, serving
from tests.support.bus import collecting, remove_bus_objects, unique_prefix
from tests.support.http import Api
from tests.support.servers import nats_server_binary
from tests.support.waiting import eventually


class EmbeddedNats:
    """An embedded NATS server the test can kill and bring back on the same port."""

    def __init__(self, store: Path) -> None:
        self.store, self.port = store, free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            nats_server_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await eventually(self._accepts, timeout=10, message="nats-server did not come up")

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()


@pytest.fixture
async def nats_server(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path / "nats")
    await server.start()
    yield server
    if server.proc and server.proc.returncode is None:
        await server.kill()


def backlog(metrics: str) -> float:
    line = next(x for x in metrics.splitlines() if x.startswith("microshop_outbox_backlog "))
    return float(line.split()[1])


async def backlog_of(api: Api, at_least: float) -> bool:
    _, metrics = await api.get("/metrics")
    return backlog(metrics) >= at_least


async def broker_is_connected(api: Api) -> bool:
    """The service's readiness says its bus is connected (its stream declared)."""
    status, health = await api.get("/health/ready")
    return status == 200 and health["broker"] == "ok"


def catalog_settings(tmp_path: Path, broker_url: str, prefix: str) -> CatalogSettings:
    return CatalogSettings(
        data_dir=tmp_path, open_mode=True, broker_url=broker_url, bus_prefix=prefix
    )


async def test_a_created_product_is_published_once_with_its_envelope(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    async with (
        collecting(nats_server.url, prefix, "product.created") as received,
        serving(build_app(catalog_settings(tmp_path, nats_server.url, prefix))) as base,
    ):
        api = Api(base)
        status, product = await api.post("/products", {"name": "Desk", "price": 120, "stock": 2})
        await api.close()
        assert status == 201
        await eventually(lambda: len(received) == 1)
    envelope = json.loads(received[0])
    assert envelope["type"] == "product.created" and envelope["source"] == "catalog"
    assert envelope["data"] == {"id": product["id"], "name": "Desk", "price": 120.0, "stock": 2}


async def test_a_rolled_back_transaction_publishes_nothing(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'producer.db'}"
    metadata.create_all(create_engine(url))
    db = await open_database(url)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await record_event(tx, ProductCreated(id=1, name="Ghost", price=1, stock=1))
            raise RuntimeError("the order failed after the event was recorded")
    bus = connect_bus(nats_server.url, unique_prefix())
    relay = OutboxRelay(db, bus)
    assert await relay.publish_pending() == 0
    assert await db.fetch_value(Query(select(func.count()).select_from(outbox))) == 0
    await bus.close()
    await db.close()


async def test_a_burst_of_commits_is_published_without_waiting_for_the_poll(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    """The relay is woken by each commit, also one that lands while it publishes:
    none of the events waits for the one-second idle poll."""
    prefix = unique_prefix()
    url = f"sqlite:///{tmp_path / 'producer.db'}"
    metadata.create_all(create_engine(url))
    db = await open_database(url)
    bus = connect_bus(nats_server.url, prefix)
    relay = OutboxRelay(db, bus, idle_poll=30.0)
    db.outbox_written = relay.wake
    async with collecting(nats_server.url, prefix, "product.created") as received:
        running = asyncio.create_task(relay.run())
        try:
            for n in range(20):
                async with db.transaction() as tx:
                    await record_event(tx, ProductCreated(id=n, name="Lamp", price=1, stock=1))
                await asyncio.sleep(0.002)  # some commits land mid-publish
            await eventually(lambda: len(received) == 20, timeout=5)
        finally:
            relay.stop()
            await running
    await bus.close()
    await db.close()
    await remove_bus_objects(nats_server.url, prefix)


async def test_with_the_broker_down_writes_succeed_and_every_event_arrives_after_it_is_back(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    settings = catalog_settings(tmp_path, nats_server.url, prefix)
    async with serving(build_app(settings)) as base:
        api = Api(base)
        # Let the service connect and declare its stream, then take the broker away.
        await api.post("/products", {"name": "Before", "price": 1, "stock": 1})
        await eventually(lambda: broker_is_connected(api), timeout=10)
        await nats_server.kill()
        statuses = [
            (await api.post("/products", {"name": f"During {n}", "price": 1, "stock": 1}))[0]
            for n in range(5)
        ]
        assert statuses == [201] * 5
        # The backlog is visible while the broker is away (prometheus text format); the
        # relay measures it between its retries: up to ~5 s.
        await eventually(lambda: backlog_of(api, at_least=5), timeout=10, interval=0.1)
        await nats_server.start()
        async with collecting(nats_server.url, prefix, "product.created") as received:
            await eventually(lambda: len(received) == 6, timeout=30)
        await api.close()
    names = sorted(json.loads(body)["data"]["name"] for body in received)
    assert names == ["Before", *(f"During {n}" for n in range(5))]
    await remove_bus_objects(nats_server.url, prefix)
