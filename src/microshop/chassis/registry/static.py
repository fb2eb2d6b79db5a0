"""A fixed table of instances, for Compose and Kubernetes, where DNS already names
each service and the platform checks health.

    registry = StaticRegistry({"catalog": "http://catalog:8000",
                               "orders": ["http://orders-1:8000", "http://orders-2:8000"]})
    await registry.instances("orders")   # two instances, orders-1 and orders-2

The table is today's MICROSHOP_PEERS (service -> base URL), where a service may
also list several base URLs. Registering, heartbeating and deregistering do
nothing; `watch` yields the table once and then waits for ever.
"""

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from urllib.parse import urlsplit

from microshop.chassis.registry.model import TTL_S, Instance, ordered

Peers = Mapping[str, str | Sequence[str]]


def table_of(peers: Peers) -> list[Instance]:
    instances = []
    for service, urls in peers.items():
        for n, url in enumerate([urls] if isinstance(urls, str) else urls, start=1):
            parts = urlsplit(url)
            if not parts.hostname:
                raise ValueError(f"not a base URL for {service}: {url!r}")
            scheme = parts.scheme or "http"
            instances.append(
                Instance(
                    service=service,
                    # Stable across restarts: the n-th URL of the service.
                    instance=f"{service}-{n}",
                    address=parts.hostname,
                    port=parts.port or (443 if scheme == "https" else 80),
                    scheme=scheme,
                )
            )
    return ordered(instances)


class StaticRegistry:
    def __init__(self, peers: Peers, *, ttl: float = TTL_S) -> None:
        self.ttl = ttl
        self.table = table_of(peers)
        self._closed = asyncio.Event()

    async def register(self, instance: Instance) -> None:
        """Nothing to do: the platform, not the instance, keeps the table."""

    async def heartbeat(self, instance: Instance) -> None:
        """Nothing to do."""

    async def deregister(self, instance: Instance) -> None:
        """Nothing to do."""

    async def instances(self, service: str | None = None) -> list[Instance]:
        return [i for i in self.table if service is None or i.service == service]

    async def watch(self, service: str | None = None) -> AsyncGenerator[list[Instance], None]:
        yield await self.instances(service)
        # The table never changes; end only when the registry is closed.
        await self._closed.wait()

    async def close(self) -> None:
        self._closed.set()
