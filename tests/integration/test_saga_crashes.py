"""The orders process killed (a real SIGKILL) at every boundary of the order saga,
then restarted: every saga still ends final, no payment is charged twice, stock
adds up, a rejected order is refunded and only an approved one has a shipment.

Orders runs as its own OS process (`python -m microshop serve orders`) with
MICROSHOP_CRASH_AT=<step>.<boundary>, beside the other services served
in this test. Each boundary is hit MICROSHOP_SOAK_ROUNDS times (2 here, 25 in
`make soak`). Boundaries run in a few lanes at once, each lane with its own
peers: order ids restart at 1 in each lane's orders database, and payments,
stock and shipments are keyed by order id.
"""

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import free_port
from tests.support.shop import Shop, running_shop

ROUNDS = int(os.environ.get("MICROSHOP_SOAK_ROUNDS", "2"))
# Boundaries every approved order passes, and those of an order whose shipment is refused.
HAPPY_PATH = [
    "payment.started",
    "payment.called",
    "inventory.started",
    "inventory.called",
    "shipping.started",
    "shipping.called",
]
REFUSED_SHIPPING = [
    "shipping.called",
    "inventory.compensating",
    "inventory.compensated",
    "payment.compensating",
    "payment.compensated",
]
BOUNDARIES_PER_LANE = 2
INITIAL_STOCK = 1000
# A dead process's lease on its saga runs out this fast, so the restart resumes at once.
LEASE_SECONDS = "1"
# Generous: on a busy 2-core machine several Python processes start at once.
STARTUP_SECONDS = 60


class OrdersProcess:
    """The orders service as a real process on a fixed port, started and killed at will."""

    def __init__(self, workdir: Path, peers: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = workdir / "orders.log"
        # Nothing from the caller's MICROSHOP_* environment leaks into the service.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("MICROSHOP_")}
        self.env = inherited | {
            "MICROSHOP_DATA_DIR": str(workdir),
            "MICROSHOP_OPEN": "1",
            "MICROSHOP_PEERS": json.dumps(peers),
            "MICROSHOP_ORDERS_DATABASE_URL": f"sqlite:///{workdir / 'orders.db'}",
            "MICROSHOP_ORDERS_SAGA_SWEEP_EVERY": "0.2",
            "MICROSHOP_ORDERS_SAGA_LEASE_SECONDS": LEASE_SECONDS,
            # The key the services beside it sign their /internal calls with.
            "MICROSHOP_SERVICE_KEY": os.environ["MICROSHOP_SERVICE_KEY"],
        }
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, crash_at: str | None = None) -> None:
        env = self.env | ({"MICROSHOP_CRASH_AT": crash_at} if crash_at else {})
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "microshop", "serve", "orders", "--port", str(self.port)),
                env=env,
                stdout=log,
                stderr=log,
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_SECONDS
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while loop.time() < deadline:
                if self.proc.returncode is not None:
                    break
                try:
                    async with http.get(self.url + "/health/ready") as reply:
                        if reply.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"orders did not start: {self.log.read_text()[-3000:]}")

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    async def killed(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class Lane:
    """Some boundaries, tried one after another against one set of peers."""

    shop: Shop
    orders: OrdersProcess
    user_id: int
    product_id: int
    expected: str  # the outcome every order must reach despite the crashes
    placed: list[int] = field(default_factory=list)
    approved: int = 0


@asynccontextmanager
async def lane(
    workdir: Path, databases: DatabaseFactory, starting: asyncio.Lock, *, refuse_shipping: bool
) -> AsyncIterator[Lane]:
    orders = OrdersProcess(workdir, {})
    async with AsyncExitStack() as stack:
        # One shop starts at a time: Alembic keeps its migration context in a global,
        # so two apps of this process must not migrate at once.
        async with starting:
            shop = await stack.enter_async_context(
                running_shop(
                    "sqlite",
                    databases,
                    workdir,
                    open_mode=True,
                    # Orders runs in its own process; the peers get SQLite files in workdir.
                    orders_backend_only=True,
                    orders_url=orders.url,
                    shipping_settings={"refuse_all": refuse_shipping},
                )
            )
        orders.env["MICROSHOP_PEERS"] = json.dumps(shop.peers)
        stack.push_async_callback(orders.stop)
        status, user = await shop.users.post(
            "/users", {"name": "Crash Tester", "email": "crash@example.com"}
        )
        assert status == 201, user
        status, product = await shop.catalog.post(
            "/products", {"name": "Crash dummy", "price": 12.5, "stock": INITIAL_STOCK}
        )
        assert status == 201, product
        expected = "rejected" if refuse_shipping else "approved"
        yield Lane(shop, orders, user["id"], product["id"], expected)


async def place(lane: Lane, key: str) -> int | None:
    """Places one order; None when the process died before it could answer."""
    body = {"user_id": lane.user_id, "product_id": lane.product_id, "quantity": 1}
    try:
        status, order = await lane.shop.orders.post(
            "/orders", body, headers={"Idempotency-Key": key}
        )
    except aiohttp.ClientError:
        return None
    assert status == 201, order
    return int(order["id"])


async def crash_and_recover(lane: Lane, boundary: str, key: str) -> None:
    log_offset = lane.orders.log_size()
    await lane.orders.start(crash_at=boundary)
    order_id = await place(lane, key)
    assert await lane.orders.killed() == -signal.SIGKILL
    # Killed by its own crash point, not by anything else.
    assert f"point={boundary}" in lane.orders.log_since(log_offset)

    await lane.orders.start()
    # A client that lost its answer retries with its key: the same order, not a new one.
    order_id = order_id or await place(lane, key)
    assert order_id is not None and order_id not in lane.placed
    lane.placed.append(order_id)
    order = await lane.shop.final(order_id, timeout=30)
    assert order["status"] == lane.expected, (boundary, order)
    lane.approved += order["status"] == "approved"
    await assert_consistent(lane, order)
    await lane.orders.stop()


async def assert_consistent(lane: Lane, order: dict[str, Any]) -> None:
    shop, approved = lane.shop, order["status"] == "approved"
    status, payments = await shop.payments.get(f"/internal/payments?order_id={order['id']}")
    assert status == 200, payments
    # One payment, charged once, and refunded exactly when the order was rejected.
    assert [p["status"] for p in payments] == ["succeeded" if approved else "refunded"], order
    status, shipment = await shop.shipping.get(f"/internal/shipments?order_id={order['id']}")
    if approved:
        assert (status, shipment["status"]) == (200, "created"), order
    else:
        assert status == 404 or shipment["status"] == "cancelled", (order, shipment)
    assert await shop.stock(lane.product_id) == INITIAL_STOCK - lane.approved
    status, unfinished = await shop.orders.get("/internal/sagas")
    assert (status, unfinished) == (200, [])


async def run_lanes(tmp_path: Path, databases: DatabaseFactory) -> None:
    """Every boundary, ROUNDS times, in lanes of a few boundaries that run at once."""
    lanes = [
        (boundaries[i : i + BOUNDARIES_PER_LANE], refuse_shipping)
        for boundaries, refuse_shipping in ((HAPPY_PATH, False), (REFUSED_SHIPPING, True))
        for i in range(0, len(boundaries), BOUNDARIES_PER_LANE)
    ]
    starting = asyncio.Lock()

    async def run(index: int, group: list[str], refuse_shipping: bool) -> None:
        workdir = tmp_path / f"lane{index}"
        async with lane(workdir, databases, starting, refuse_shipping=refuse_shipping) as one:
            for round_ in range(ROUNDS):
                for boundary in group:
                    await crash_and_recover(one, boundary, f"{boundary}-{round_}")
            assert len(one.placed) == ROUNDS * len(group)

    # A failing lane cancels the others, which stop their orders process on the way out.
    async with asyncio.TaskGroup() as lanes_running:
        for index, spec in enumerate(lanes):
            lanes_running.create_task(run(index, *spec))


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.mark.timeout(90 + 45 * ROUNDS)
async def test_a_sigkill_at_any_saga_boundary_still_ends_every_order_paid_once_and_restocked(
    tmp_path: Path, databases: DatabaseFactory
) -> None:
    """Approved orders stay approved with one charge, one shipment and their stock
    taken; refused shipments end rejected with one refund and the stock put back."""
    await run_lanes(tmp_path, databases)
