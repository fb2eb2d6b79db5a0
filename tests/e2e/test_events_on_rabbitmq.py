"""`microshop up --broker amqp://...`: the services use the machine's RabbitMQ
instead of the embedded NATS, and an order's confirmation e-mail still arrives."""

import asyncio
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from microshop.services import APPS
from tests.e2e.shopper import order_is_confirmed_once
from tests.e2e.system import System, running_system
from tests.support.bus import remove_bus_objects, unique_prefix
from tests.support.http import Api
from tests.support.servers import RABBITMQ, require_server

pytestmark = pytest.mark.timeout(240)
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def consumer_queues(prefix: str) -> list[str]:
    """Every queue the services declare: `<prefix>.<consumer>`, one per consuming service."""
    queues = []
    for service, target in APPS.items():
        package = target.partition(":")[0].rsplit(".", 1)[0]
        try:
            importlib.import_module(f"{package}.handlers")
        except ModuleNotFoundError:
            continue
        queues.append(f"{prefix}.{service}")
    return queues


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    require_server(RABBITMQ)
    data_dir: Path = tmp_path_factory.mktemp("events-rabbitmq") / "data"
    prefix = unique_prefix()
    try:
        with running_system(data_dir, broker=RABBITMQ_URL, bus_prefix=prefix) as running:
            yield running
    finally:
        asyncio.run(remove_bus_objects(RABBITMQ_URL, prefix, consumer_queues(prefix)))


def test_no_nats_is_started_when_a_broker_is_given(system: System) -> None:
    state = system.state()
    assert "nats" not in state["processes"]
    assert state["broker_url"] == RABBITMQ_URL
    assert state["bus_prefix"].startswith("microshop_test_")
    assert not (system.data_dir / "nats").exists()


async def test_a_placed_order_is_confirmed_by_exactly_one_email_over_rabbitmq(
    api: Api, system: System
) -> None:
    await order_is_confirmed_once(api, system, "rosa")


def test_the_dead_letters_command_reads_the_rabbitmq_queue(system: System) -> None:
    listed = system.microshop("events", "dead-letters", "--data-dir", str(system.data_dir))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "no dead letters (amqp://guest:***@127.0.0.1:5672/" in listed.stdout
