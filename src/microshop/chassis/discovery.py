"""Where a service's instances are, as the service client sees it: a name resolves
to the base URLs of its live instances, from memory.

    discovery = RegistryDiscovery(registry, fallback={"catalog": "http://127.0.0.1:8102"})
    await discovery.start()          # follows the registry's watch in a task
    discovery.endpoints("catalog")   # ["http://127.0.0.1:8102", "http://127.0.0.1:8112"]

Never a lookup per call: the registry's watch keeps the table current, and an
instance that deregisters or stops heartbeating drops out of it. A service the
registry has not (yet) seen falls back to the static peers, so the first calls
after a start, before the watch has answered, still find their way.
"""

import asyncio
from collections import defaultdict
from typing import Protocol

from microshop.chassis.registry import Instance, Registry
from microshop.chassis.registry.follow import follow
from microshop.chassis.tasks import stop_tasks


class Discovery(Protocol):
    def endpoints(self, service: str) -> list[str]: ...


class StaticDiscovery:
    """Service name -> base URL(s), from MICROSHOP_PEERS (Compose and Kubernetes
    names resolve through DNS, where the platform balances)."""

    def __init__(self, peers: dict[str, str] | dict[str, str | list[str]]) -> None:
        self.peers = {
            name: [u.rstrip("/") for u in ([urls] if isinstance(urls, str) else urls)]
            for name, urls in peers.items()
        }

    def endpoints(self, service: str) -> list[str]:
        return self.peers.get(service, [])


class RegistryDiscovery:
    def __init__(
        self,
        registry: Registry,
        fallback: dict[str, str] | dict[str, str | list[str]] | None = None,
    ) -> None:
        self.registry = registry
        self.fallback = StaticDiscovery(fallback or {})
        self._live: dict[str, list[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self.seen = asyncio.Event()  # set once the watch has answered

    def endpoints(self, service: str) -> list[str]:
        return self._live.get(service) or self.fallback.endpoints(service)

    def replace(self, instances: list[Instance]) -> None:
        live: dict[str, list[str]] = defaultdict(list)
        for instance in instances:
            live[instance.service].append(instance.url)
        self._live = dict(live)
        self.seen.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                follow(self.registry, self.replace, "discovery"), name="discovery-watch"
            )

    async def stop(self) -> None:
        await stop_tasks([self._task])
        self._task = None
