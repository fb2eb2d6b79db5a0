"""This instance in the registry, and the other instances as the service client
sees them.

    presence = Presence(settings, "orders", served=lambda: middleware.served)
    await presence.start()     # registers and heartbeats; follows the registry
    presence.discovery         # what the service client balances over
    await presence.drain()     # deregister first (scale-down), then stop serving
    await presence.stop()

With the static backend (Compose, Kubernetes: names resolve through DNS) nothing
registers; the peers from MICROSHOP_PEERS are the whole truth.
"""

import socket
import time
from collections.abc import Callable

from microshop import __version__
from microshop.chassis.discovery import Discovery, RegistryDiscovery, StaticDiscovery
from microshop.chassis.registry import Heartbeat, Instance, StaticRegistry, open_registry
from microshop.chassis.settings import ServiceSettings


class Presence:
    def __init__(self, settings: ServiceSettings, service: str, served: Callable[[], int]) -> None:
        self.registry = open_registry(
            settings.resolved_registry_url(),
            prefix=settings.bus_prefix,
            replicas=settings.stream_replicas,
            peers=settings.peers,
        )
        static = isinstance(self.registry, StaticRegistry)
        self.discovery: Discovery = (
            StaticDiscovery(settings.peers)
            if static
            else RegistryDiscovery(self.registry, fallback=settings.peers)
        )
        self.instance = _instance(settings, service)
        self.heartbeat = (
            Heartbeat(self.registry, self.instance, served=served)
            if self.instance is not None and not static
            else None
        )
        self.draining = False

    async def start(self) -> None:
        if isinstance(self.discovery, RegistryDiscovery):
            await self.discovery.start()
        if self.heartbeat is not None:
            await self.heartbeat.start()

    async def drain(self) -> None:
        """Leaves the registry (callers and the gateway stop sending new requests)
        and fails the readiness check; requests in flight finish as usual."""
        self.draining = True
        if self.heartbeat is not None:
            await self.heartbeat.stop(deregister=True)

    async def stop(self) -> None:
        if self.heartbeat is not None:
            await self.heartbeat.stop(deregister=True)
        if isinstance(self.discovery, RegistryDiscovery):
            await self.discovery.stop()
        await self.registry.close()


def _instance(settings: ServiceSettings, service: str) -> Instance | None:
    if settings.advertise_port is None:
        return None  # served in a test or embedded: nobody needs to find it
    host = settings.advertise_host or socket.gethostname()
    if not settings.instance_id:
        return Instance.new(service, host, settings.advertise_port, version=__version__)
    return Instance(
        service=service,
        instance=settings.instance_id,
        address=host,
        port=settings.advertise_port,
        version=__version__,
        started=time.time(),
    )
