"""The events stream keeps a week of events, also on a broker whose stream was made
before it had a limit; the dead letters stay until someone deals with them."""

from pathlib import Path

import nats
from nats.js.api import StreamConfig

from microshop.chassis.bus import connect_bus
from microshop.chassis.bus_nats import KEEP_EVENTS_S, NatsBus
from tests.support.bus import publish, remove_bus_objects, unique_prefix
from tests.support.servers import embedded_nats


async def test_the_events_stream_keeps_a_week_and_the_dead_letters_stay(tmp_path: Path) -> None:
    async with embedded_nats(str(tmp_path / "nats")) as url:
        prefix = unique_prefix()
        client = await nats.connect(url)
        bus = connect_bus(url, prefix)
        assert isinstance(bus, NatsBus)
        try:
            js = client.jetstream()
            # As an earlier microshop made it: no age limit.
            await js.add_stream(
                StreamConfig(name=bus.events_stream, subjects=[f"{prefix}.events.>"])
            )
            await bus.start()
            await publish(bus, b'{"n": 1}', "order.created", "e-1")

            events = await js.stream_info(bus.events_stream)
            assert events.config.max_age == KEEP_EVENTS_S
            assert events.state.messages == 1
            dead = await js.stream_info(bus.dead_stream)
            assert not dead.config.max_age
        finally:
            await bus.close()
            await client.close()
            await remove_bus_objects(url, prefix)
