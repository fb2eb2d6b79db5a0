"""The bus and the registry given several NATS servers use whichever answers: the
first of the list is down here, the second is a real server."""

from pathlib import Path

from microshop.chassis.bus import connect_bus
from microshop.chassis.registry import Instance, open_registry
from tests.support.asgi import free_port
from tests.support.bus import collecting, publish, remove_bus_objects, unique_prefix
from tests.support.servers import embedded_nats
from tests.support.waiting import eventually


async def test_events_flow_when_the_first_server_of_the_list_is_down(tmp_path: Path) -> None:
    async with embedded_nats(str(tmp_path / "nats")) as live:
        servers = f"nats://127.0.0.1:{free_port()},{live}"
        prefix = unique_prefix()
        bus = connect_bus(servers, prefix)
        try:
            async with collecting(servers, prefix, "order.created") as received:
                await publish(bus, b'{"n": 1}', "order.created", "e-1")
                await eventually(lambda: received == [b'{"n": 1}'], 10)
        finally:
            await bus.close()
            await remove_bus_objects(live, prefix)


async def test_instances_register_when_the_first_server_of_the_list_is_down(
    tmp_path: Path,
) -> None:
    async with embedded_nats(str(tmp_path / "nats")) as live:
        registry = open_registry(f"nats://127.0.0.1:{free_port()},{live}", prefix=unique_prefix())
        try:
            await registry.register(Instance.new("orders", "127.0.0.1", 8003))
            listed = await registry.instances("orders")
            assert [(i.address, i.port) for i in listed] == [("127.0.0.1", 8003)]
        finally:
            await registry.close()
