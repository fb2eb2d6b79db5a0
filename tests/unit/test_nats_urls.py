"""A NATS cluster is named by a list of URLs, and the bus and the registry both take
every server of it (MICROSHOP_BROKER_URL=nats://a:4222,nats://b:4222,...)."""

import pytest

from microshop.chassis.bus import broker_urls, connect_bus
from microshop.chassis.bus_nats import NatsBus
from microshop.chassis.registry import NatsRegistry, open_registry
from microshop.chassis.settings import ServiceSettings

CLUSTER = "nats://10.0.0.1:4222,nats://10.0.0.2:4222, 10.0.0.3:4222"
SERVERS = ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222", "nats://10.0.0.3:4222"]


def test_the_bus_is_given_every_server_of_a_comma_separated_url() -> None:
    bus = connect_bus(CLUSTER.replace(" ", ""), replicas=3)
    assert isinstance(bus, NatsBus)
    assert (bus.urls, bus.replicas) == (SERVERS, 3)
    assert broker_urls("nats://a:4222") == ["nats://a:4222"]


def test_the_registry_follows_the_same_servers_with_the_same_replicas() -> None:
    registry = open_registry(CLUSTER, replicas=3)
    assert isinstance(registry, NatsRegistry)
    assert (registry.urls, registry.replicas) == (SERVERS, 3)


def test_streams_are_kept_on_one_server_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MICROSHOP_STREAM_REPLICAS", raising=False)
    assert ServiceSettings().stream_replicas == 1
    monkeypatch.setenv("MICROSHOP_STREAM_REPLICAS", "3")
    monkeypatch.setenv("MICROSHOP_BROKER_URL", CLUSTER)
    settings = ServiceSettings()
    assert settings.stream_replicas == 3
    assert settings.resolved_registry_url() == CLUSTER
