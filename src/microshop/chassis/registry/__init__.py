"""Service registry: instances register, heartbeat and deregister; callers list and
watch the live ones. The backend is chosen by URL:

    registry = open_registry("nats://127.0.0.1:4222")            # JetStream KV (default)
    registry = open_registry("consul://127.0.0.1:8500")          # Consul agent + health API
    registry = open_registry("static:", peers=settings.peers)    # a fixed table

    async with Heartbeat(registry, Instance.new("orders", "127.0.0.1", 8003)):
        async with contextlib.aclosing(registry.watch("catalog")) as changes:
            async for live in changes:       # the current list, then every change
                balancer.replace(live)

An instance drops out when it deregisters (at once) or when it has not
heartbeaten for `ttl` seconds (default 10; heartbeats every 3 s).
"""

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from microshop.chassis.registry.consul import ConsulRegistry
from microshop.chassis.registry.heartbeat import Heartbeat
from microshop.chassis.registry.model import (
    HEARTBEAT_S,
    TTL_S,
    Instance,
    NotRegistered,
    Registry,
    RegistryError,
)
from microshop.chassis.registry.nats_kv import NatsRegistry
from microshop.chassis.registry.static import StaticRegistry


def open_registry(
    url: str,
    *,
    prefix: str = "microshop",
    ttl: float = TTL_S,
    replicas: int = 1,
    peers: Mapping[str, str | Sequence[str]] | None = None,
    deregister_after: str = "1m",
) -> Registry:
    """A registry for `url`; nothing connects until the first call.

    - `nats://host:port[,nats://host2:port2...]` (or `tls://`): bucket
      `<prefix>_registry` kept on `replicas` servers;
    - `consul://host:port`: that Consul agent's HTTP API (`deregister_after` is
      the check's DeregisterCriticalServiceAfter);
    - `static:`: `peers` (service -> base URL or list of them: the settings'
      MICROSHOP_PEERS).
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("nats", "tls"):
        return NatsRegistry(nats_urls(url), prefix=prefix, ttl=ttl, replicas=replicas)
    if scheme == "consul":
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"consul registry URL needs host:port: {url!r}")
        return ConsulRegistry(f"http://{parts.netloc}", ttl=ttl, deregister_after=deregister_after)
    if scheme == "static":
        if peers is None:
            raise ValueError("a static: registry needs its peers (MICROSHOP_PEERS)")
        return StaticRegistry(peers, ttl=ttl)
    raise ValueError(f"unknown registry URL {url!r}: use nats://, consul:// or static:")


def nats_urls(url: str) -> list[str]:
    """`nats://a:4222,nats://b:4222` (or `nats://a:4222,b:4222`): every server to try,
    as the bus takes them from MICROSHOP_BROKER_URL."""
    scheme = url.partition("://")[0]
    parts = [part.strip() for part in url.split(",") if part.strip()]
    return [part if "://" in part else f"{scheme}://{part}" for part in parts]


__all__ = [
    "HEARTBEAT_S",
    "TTL_S",
    "ConsulRegistry",
    "Heartbeat",
    "Instance",
    "NatsRegistry",
    "NotRegistered",
    "Registry",
    "RegistryError",
    "StaticRegistry",
    "open_registry",
]
