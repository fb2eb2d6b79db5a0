"""Events on the embedded NATS that `microshop up` starts: an order's confirmation
e-mail arrives once, and none is lost while NATS is killed and restarted."""

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.shopper import as_admin, email, order_is_confirmed_once, sign_up
from tests.e2e.system import System, gone, running_system
from tests.support.http import Api
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(240)
RESTART_TIMEOUT = 20.0
# The outbox relay and the consumers reconnect with backoff after the broker returns.
AFTER_OUTAGE_MAIL_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("events-nats") / "data"
    with running_system(data_dir) as running:
        yield running


def test_the_embedded_nats_runs_beside_the_services_and_they_use_it(system: System) -> None:
    state = system.state()
    nats = state["processes"]["nats"]
    assert nats["port"] == system.service_port_base + 50
    assert state["broker_url"] == f"nats://127.0.0.1:{nats['port']}"
    assert (system.data_dir / "nats").is_dir()


def test_the_embedded_nats_runs_with_a_tighter_go_collector(system: System) -> None:
    # Its memory is most of what grows under a long load (docs/performance.md, Memory).
    pid = system.state()["processes"]["nats"]["pid"]
    environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"GOGC=50" in environment


async def test_a_placed_order_is_confirmed_by_exactly_one_email_to_the_customer(
    api: Api, system: System
) -> None:
    order = await order_is_confirmed_once(api, system, "olga")
    subject = f"Order #{order['id']} confirmed"

    status, sent = await (await as_admin(api)).get("/api/notifications")
    assert status == 200, sent
    listed = [m for m in sent if m["subject"] == subject]
    assert [m["recipient"] for m in listed] == [order["user"]["email"]]


def test_the_dead_letters_command_lists_none_on_a_healthy_system(system: System) -> None:
    listed = system.microshop("events", "dead-letters", "--data-dir", str(system.data_dir))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "no dead letters" in listed.stdout
    assert "prefix microshop" in listed.stdout
    assert not listed.stderr


async def _nats_restarted(system: System, old_pid: int) -> int:
    def new_pid() -> int | None:
        pid = system.state()["processes"]["nats"]["pid"]
        return None if pid in (None, old_pid) else int(pid)

    return await eventually(
        new_pid, RESTART_TIMEOUT, interval=0.2, message="nats was not restarted"
    )


async def test_orders_placed_while_nats_is_down_are_accepted_and_no_email_is_lost(
    api: Api, system: System
) -> None:
    user, customer = await sign_up(api, "pavel")
    old_pid = system.state()["processes"]["nats"]["pid"]

    os.kill(old_pid, signal.SIGKILL)
    replies = await asyncio.gather(
        *(customer.post("/api/orders", {"product_id": 3, "quantity": 1}) for _ in range(3))
    )
    assert [status for status, _ in replies] == [201, 201, 201], replies

    await _nats_restarted(system, old_pid)
    assert gone(old_pid)
    assert system.state()["processes"]["nats"]["restarts"] >= 1
    for _, order in replies:
        message = await email(
            system, f"Order #{order['id']} confirmed", timeout=AFTER_OUTAGE_MAIL_TIMEOUT
        )
        assert message["To"] == user["email"]
