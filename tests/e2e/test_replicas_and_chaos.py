"""Replicas, the registry and `microshop chaos` through the gateway: two instances of
orders and catalog, one stopped under a stream of orders, catalog scaled up and
drained back down, catalog slowed and stopped until the callers' breaker opens.

The system runs on the machine's NATS under its own prefix, so that after `down`
the test can look into the registry bucket the instances used."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import aiohttp
import pytest

from microshop.chassis.registry import open_registry
from tests.e2e.shopper import sign_up
from tests.e2e.system import System, running_system
from tests.support.bus import remove_bus_objects, unique_prefix
from tests.support.servers import NATS, require_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(300)
LAPTOP = 1
FINAL = {"approved", "rejected"}
CALL_TIMEOUT_S = 1.0  # the services' deadline for a call to another (MICROSHOP_HTTP_TIMEOUT)
BREAKER_RESET_S = 4.0
REGISTRY_TTL_S = 10.0
POLL_S = 0.2
PREFIX = unique_prefix()
NATS_URL = "nats://127.0.0.1:4222"
BROKEN = 0  # the status recorded for a reply cut off in its body


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    require_server(NATS)
    data_dir: Path = tmp_path_factory.mktemp("replicas") / "data"
    try:
        with running_system(
            data_dir,
            broker=NATS_URL,
            bus_prefix=PREFIX,
            replicas="orders=2,catalog=2",
            MICROSHOP_HTTP_TIMEOUT=str(CALL_TIMEOUT_S),
            MICROSHOP_BREAKER_RESET_SECONDS=str(BREAKER_RESET_S),
        ) as running:
            yield running
        # `down` stopped every instance cleanly: each took its own entry out.
        assert asyncio.run(_registered()) == []
    finally:
        asyncio.run(_remove_registry())


async def _registered() -> list[str]:
    registry = open_registry(NATS_URL, prefix=PREFIX)
    try:
        return [i.key for i in await registry.instances()]
    finally:
        await registry.close()


async def _served(instance: str) -> int:
    """Requests served by `instance` as its last heartbeat reported them."""
    registry = open_registry(NATS_URL, prefix=PREFIX)
    try:
        return next(i.served for i in await registry.instances() if i.instance == instance)
    finally:
        await registry.close()


async def _served_more(instance: str, than: int) -> bool:
    return await _served(instance) > than


async def _remove_registry() -> None:
    registry = open_registry(NATS_URL, prefix=PREFIX)
    try:
        await registry.delete_bucket()  # type: ignore[attr-defined]
    finally:
        await registry.close()
    await remove_bus_objects(NATS_URL, PREFIX)


def services(system: System) -> list[dict[str, Any]]:
    listed = system.microshop("services", "--json", "--data-dir", str(system.data_dir))
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)  # type: ignore[no-any-return]


def instances_of(system: System, service: str) -> list[str]:
    return sorted(row["instance"] for row in services(system) if row["service"] == service)


def chaos(system: System, *args: str) -> str:
    done = system.microshop(*args, "--data-dir", str(system.data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(done.stdout.strip().splitlines()) == 1, done.stdout  # one line, what it did
    return done.stdout.strip()


@dataclass
class Stream:
    """What a steady stream of requests got back: (status, body, seconds) each."""

    replies: list[tuple[int, Any, float]] = field(default_factory=list)

    def failed(self) -> list[tuple[int, Any, float]]:
        return [r for r in self.replies if r[0] >= 400 or r[0] == BROKEN]


@asynccontextmanager
async def steady(
    call: Any, workers: int = 3, limit: int = 2000, seconds: float = 90
) -> AsyncIterator[Stream]:
    """`workers` loops calling `call()` one after another until the block ends
    (bounded: at most `limit` calls and `seconds`)."""
    stream, stop = Stream(), asyncio.Event()
    deadline = time.monotonic() + seconds

    async def loop() -> None:
        while not stop.is_set() and len(stream.replies) < limit and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                status, body = await call()
            except aiohttp.ClientPayloadError as broken:
                # An instance killed between its reply's headers and its body: the
                # gateway had already passed the headers on. Counted as a failure.
                status, body = BROKEN, {"error": str(broken)}
            stream.replies.append((status, body, time.monotonic() - started))
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(loop()) for _ in range(workers)]
    try:
        await asyncio.sleep(1.0)  # the stream is flowing before the block breaks something
        yield stream
        await asyncio.sleep(1.0)  # and keeps flowing after
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_every_replica_registers_and_is_listed_healthy(system: System) -> None:
    rows = services(system)
    assert {"service", "instance", "address", "port", "healthy"} <= set(rows[0])
    mine = [r for r in rows if r["service"] in ("orders", "catalog")]
    assert sorted((r["service"], r["instance"], r["healthy"]) for r in mine) == [
        ("catalog", "catalog", True),
        ("catalog", "catalog-2", True),
        ("orders", "orders", True),
        ("orders", "orders-2", True),
    ]
    assert len({r["port"] for r in mine}) == 4
    status = system.microshop("status", "--data-dir", str(system.data_dir))
    assert "catalog 2/2" in status.stdout and "orders 2/2" in status.stdout, status.stdout


async def test_a_stopped_orders_instance_leaves_and_the_other_carries_the_orders(
    api: Any, system: System
) -> None:
    _, customer = await sign_up(api, "replica-ruth")
    order = {"product_id": LAPTOP, "quantity": 1}
    workers = 3

    async with steady(lambda: customer.post("/api/orders", order), workers) as orders:
        said = chaos(system, "chaos", "stop", "orders/2")
        stopped_at = time.monotonic()  # the SIGKILL went out while the command ran
        assert said.startswith("orders-2: SIGKILLed and kept down"), said

        async def gone_since() -> float | None:
            # What `services` reads, read here: the command itself takes a second.
            listed = [key for key in await _registered() if key.startswith("orders.")]
            return time.monotonic() - stopped_at if listed == ["orders.orders"] else None

        left_after = await eventually(
            gone_since, REGISTRY_TTL_S + 5, interval=POLL_S, message="orders-2 still listed"
        )
        assert instances_of(system, "orders") == ["orders"]
        served_before = len(orders.replies)
        await eventually(lambda: len(orders.replies) >= served_before + 10, 20)

    # At most the requests orders-2 had in flight when it died failed (one per worker).
    failed = orders.failed()
    assert len(failed) <= workers, failed
    assert all(status in (503, BROKEN) and "error" in body for status, body, _ in failed), failed
    accepted = [body["id"] for status, body, _ in orders.replies if status == 201]
    assert len(accepted) >= 20
    # Its last heartbeat was at most a TTL before: gone then, give or take one poll.
    assert left_after <= REGISTRY_TTL_S + 0.5, left_after  # a poll and a read

    async def all_final() -> bool:
        for order_id in accepted:
            status, body = await customer.get(f"/api/orders/{order_id}")
            if status != 200 or body["status"] not in FINAL:
                return False
        return True

    await eventually(all_final, 30, interval=0.5, message="an accepted order is not final")

    said = chaos(system, "chaos", "start", "orders/2")
    assert said == "orders-2: started again"
    await eventually(lambda: instances_of(system, "orders") == ["orders", "orders-2"], 30)
    served = await _served("orders-2")
    async with steady(lambda: customer.get("/api/orders"), workers=2) as reads:
        # The count is refreshed by each heartbeat (every 3 s) and the gateway
        # routes to orders-2 once its first health check passed (every 2 s):
        # read until a heartbeat reports requests served, or give up.
        await eventually(
            lambda: _served_more("orders-2", served),
            REGISTRY_TTL_S * 2,
            interval=POLL_S,
            message="orders-2 serves nothing after its start",
        )
    assert not reads.failed()


async def test_scaling_catalog_up_and_back_down_fails_no_request(api: Any, system: System) -> None:
    said = chaos(system, "scale", "catalog=3")
    assert said == "scaled catalog up to 3: started catalog-3"
    assert instances_of(system, "catalog") == ["catalog", "catalog-2", "catalog-3"]
    _, customer = await sign_up(api, "replica-sam")

    async def browse_and_order() -> tuple[int, Any]:
        status, body = await api.get(f"/api/products/{LAPTOP}")
        if status != 200:
            return status, body
        return await customer.post("/api/orders", {"product_id": LAPTOP, "quantity": 1})

    async with steady(browse_and_order, workers=3) as stream:
        said = chaos(system, "scale", "catalog=1")
        assert said == "scaled catalog down to 1: drained and stopped catalog-2, catalog-3"

    assert len(stream.replies) >= 20
    assert not stream.failed(), stream.failed()
    assert instances_of(system, "catalog") == ["catalog"]


async def test_a_slow_catalog_is_answered_at_the_deadline_and_spares_other_routes(
    api: Any, system: System
) -> None:
    _, customer = await sign_up(api, "replica-dee")
    order = {"product_id": LAPTOP, "quantity": 1}
    status, _ = await customer.get("/api/orders")
    assert status == 200
    said = chaos(system, "chaos", "delay", "catalog", "2000")
    assert said == "catalog: 2000 ms added to every request, 0 % answered 500"
    try:
        async with steady(lambda: customer.get("/api/orders"), workers=1) as unrelated:
            slow = []
            for _ in range(3):  # fewer than the breaker's 5 failures per orders instance
                started = time.monotonic()
                status, body = await customer.post("/api/orders", order)
                slow.append(time.monotonic() - started)
                assert status == 503, body
                assert "catalog" in body["error"], body
    finally:
        said = chaos(system, "chaos", "heal")
        assert "healed" in said
    # Each answered at its deadline, not after the 2 s the catalog took...
    assert all(CALL_TIMEOUT_S * 0.9 <= s < CALL_TIMEOUT_S + 0.5 for s in slow), slow
    # ...while the orders list, served by the same instances, kept its pace.
    lists = [seconds for status, _, seconds in unrelated.replies if status == 200]
    assert len(lists) >= 10 and not unrelated.failed()
    assert median(lists) < 0.1, lists

    status, placed = await customer.post("/api/orders", order)
    assert status == 201, placed


async def test_a_stopped_catalog_opens_the_breaker_and_a_started_one_closes_it(
    api: Any, system: System
) -> None:
    _, customer = await sign_up(api, "replica-bo")
    order = {"product_id": LAPTOP, "quantity": 1}
    said = chaos(system, "chaos", "stop", "catalog")
    assert said.startswith("catalog: SIGKILLed and kept down"), said
    try:
        # Every orders instance counts its own failures; once each breaker is open
        # the reply says how long until the next trial call.
        opened = 0
        for _ in range(60):
            status, body = await customer.post("/api/orders", order)
            assert status == 503, body
            opened = opened + 1 if int(customer.last_headers["Retry-After"]) > 1 else 0
            if opened >= 6:
                break
        assert opened >= 6, "the breaker did not open"
        fast = []
        for _ in range(10):
            started = time.monotonic()
            status, body = await customer.post("/api/orders", order)
            fast.append(time.monotonic() - started)
            assert status == 503
            assert body == {"error": "catalog unavailable", "retry_after": body["retry_after"]}
            assert int(customer.last_headers["Retry-After"]) >= 1
        assert max(fast) < 0.05, fast
    finally:
        said = chaos(system, "chaos", "start", "catalog")
    assert said == "catalog: started again"

    async def placed() -> bool:
        status, _ = await customer.post("/api/orders", order)
        return status == 201

    # After the reset time one trial call goes through, succeeds and closes it.
    await eventually(placed, BREAKER_RESET_S + 20, interval=0.5)


async def test_kill_pause_and_fail_each_say_what_they_did(api: Any, system: System) -> None:
    said = chaos(system, "chaos", "fail", "catalog", "100")
    assert said == "catalog: 0 ms added to every request, 100 % answered 500"
    status, _ = await api.get(f"/api/products/{LAPTOP}")
    assert status >= 500
    chaos(system, "chaos", "heal", "catalog")
    status, _ = await api.get(f"/api/products/{LAPTOP}")
    assert status == 200

    said = chaos(system, "chaos", "pause", "orders/2", "--for", "2s")
    assert said == "orders-2: paused (SIGSTOP) for 2 s, then SIGCONT"
    old = system.state()["processes"]["catalog"]["pid"]
    said = chaos(system, "chaos", "kill", "catalog")
    assert said.startswith("catalog: SIGKILLed (the supervisor restarts it")

    def restarted() -> bool:
        record = system.state()["processes"]["catalog"]
        return record["pid"] not in (None, old) and record["restarts"] >= 1

    await eventually(restarted, 20, interval=0.2)
    await eventually(lambda: all(r["healthy"] for r in services(system)), 30, interval=0.5)


def test_an_unknown_target_is_one_line_naming_the_valid_ones(system: System) -> None:
    for args in (("chaos", "stop", "basket"), ("chaos", "delay", "orders/7", "10")):
        refused = system.microshop(*args, "--data-dir", str(system.data_dir))
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert refused.stderr == "error: no instance '7' of orders: one of orders, orders-2\n"
    refused = system.microshop("chaos", "stop", "basket", "--data-dir", str(system.data_dir))
    assert "no service 'basket': one of catalog," in refused.stderr, refused.stderr
    assert "users" in refused.stderr
