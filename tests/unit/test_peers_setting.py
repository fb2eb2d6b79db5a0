"""MICROSHOP_PEERS names a service's instances: one URL, or a list of them, which
registry-based discovery falls back to for a service the registry lists none of."""

import pytest

from microshop.chassis.discovery import RegistryDiscovery
from microshop.chassis.registry import StaticRegistry
from microshop.chassis.settings import ServiceSettings


def test_a_service_may_be_given_several_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "MICROSHOP_PEERS", '{"users": ["http://10.0.0.1:8001", "http://10.0.0.3:8001"]}'
    )
    peers = ServiceSettings().peers
    discovery = RegistryDiscovery(StaticRegistry({}), fallback=peers)
    assert discovery.endpoints("users") == ["http://10.0.0.1:8001", "http://10.0.0.3:8001"]
