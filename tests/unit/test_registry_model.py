"""Instances, their URLs and JSON, and how open_registry reads a URL."""

import pytest

from microshop.chassis.registry import (
    ConsulRegistry,
    Instance,
    NatsRegistry,
    StaticRegistry,
    open_registry,
)
from microshop.chassis.registry.consul import go_duration
from microshop.chassis.registry.model import membership, ordered


def test_a_new_instance_gets_an_id_of_its_service_and_a_start_time() -> None:
    one, two = Instance.new("orders", "127.0.0.1", 8003), Instance.new("orders", "::1", 8003)
    assert one.instance.startswith("orders-") and len(one.instance) == len("orders-") + 6
    assert one.instance != two.instance and one.started > 0
    assert one.url == "http://127.0.0.1:8003" and two.url == "http://[::1]:8003"
    assert one.key == f"orders.{one.instance}"


def test_health_is_a_path_on_the_instance_or_a_url_of_its_own() -> None:
    base = Instance("orders", "orders-1", "10.0.0.5", 8000)
    assert base.health_url == "http://10.0.0.5:8000/health/ready"
    other = Instance("orders", "orders-1", "10.0.0.5", 8000, health="http://10.0.0.5:9000/up")
    assert other.health_url == "http://10.0.0.5:9000/up"


def test_json_round_trips_and_ignores_fields_it_does_not_know() -> None:
    instance = Instance("orders", "orders-1", "10.0.0.5", 8000, "/h", "1.2", 17.5, 9)
    assert Instance.from_json(instance.to_json()) == instance
    assert Instance.from_json({**instance.to_json(), "zone": "b"}) == instance


@pytest.mark.parametrize("name", ["orders.1", "orders 1", "", "orders/1"])
def test_names_that_would_break_a_key_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        Instance("orders", name, "127.0.0.1", 1)


def test_lists_are_ordered_and_compared_without_served() -> None:
    a, b = Instance("a", "a-1", "h", 1), Instance("b", "b-1", "h", 1)
    assert ordered([b, a]) == [a, b]
    assert membership([a.with_served(3), b]) == membership([b, a.with_served(8)])


def test_ttls_are_written_as_go_durations() -> None:
    assert (go_duration(10), go_duration(2.0), go_duration(0.5)) == ("10s", "2s", "500ms")


def test_open_registry_picks_the_backend_by_url() -> None:
    nats = open_registry("nats://a:4222,nats://b:4222", prefix="shop", ttl=4, replicas=3)
    assert isinstance(nats, NatsRegistry)
    assert (nats.urls, nats.bucket, nats.ttl, nats.replicas) == (
        ["nats://a:4222", "nats://b:4222"],
        "shop_registry",
        4,
        3,
    )
    consul = open_registry("consul://127.0.0.1:8500")
    assert isinstance(consul, ConsulRegistry) and consul.base_url == "http://127.0.0.1:8500"
    assert isinstance(open_registry("static:", peers={}), StaticRegistry)
    with pytest.raises(ValueError, match="unknown registry URL"):
        open_registry("etcd://127.0.0.1:2379")
