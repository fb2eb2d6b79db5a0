"""What the registry stores and the contract every backend keeps.

    me = Instance.new("orders", "127.0.0.1", 8003, version="1.4.0")
    me.url                 # "http://127.0.0.1:8003"
    me.health_url          # "http://127.0.0.1:8003/health/ready"
    await registry.register(me)
    live = await registry.instances("orders")

`watch` is an async iterator: its first item is the current list, then one
item per change. Close it (`contextlib.aclosing`) when you stop reading.
"""

import dataclasses
import re
import time
import uuid
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

# The chapter's check interval: an instance that has not heartbeaten for this
# long is gone.
TTL_S = 10.0
# A third of the TTL, so two heartbeats can be lost before an instance drops out.
HEARTBEAT_S = 3.0

# Both names become one NATS key token and a Consul ID: no dots, no spaces.
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class RegistryError(Exception):
    """The backend could not be reached or refused the request."""


class NotRegistered(RegistryError):
    """A heartbeat for an instance the backend no longer knows (it lost its
    state, or reaped the instance): register it again."""


@dataclass(frozen=True, slots=True)
class Instance:
    service: str
    instance: str
    address: str
    port: int
    # A path on the instance ("/health/ready") or a full URL.
    health: str = "/health/ready"
    version: str = ""
    # Epoch seconds.
    started: float = 0.0
    # Requests served so far; refreshed by every heartbeat.
    served: int = 0
    scheme: str = "http"

    def __post_init__(self) -> None:
        for field in (self.service, self.instance):
            if not _NAME.match(field):
                raise ValueError(f"not a valid registry name: {field!r} (letters, digits, - and _)")

    @classmethod
    def new(
        cls,
        service: str,
        address: str,
        port: int,
        *,
        health: str = "/health/ready",
        version: str = "",
        scheme: str = "http",
    ) -> "Instance":
        """A fresh instance of `service` with a random id like `orders-8f3a2c`."""
        return cls(
            service=service,
            instance=f"{service}-{uuid.uuid4().hex[:6]}",
            address=address,
            port=port,
            health=health,
            version=version,
            started=time.time(),
            scheme=scheme,
        )

    @property
    def url(self) -> str:
        """The instance's base URL, without a trailing slash."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def health_url(self) -> str:
        if "://" in self.health:
            return self.health
        return self.url + "/" + self.health.lstrip("/")

    @property
    def key(self) -> str:
        return f"{self.service}.{self.instance}"

    def with_served(self, served: int) -> "Instance":
        return dataclasses.replace(self, served=served)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Instance":
        # Unknown keys are ignored: a newer instance may publish more fields.
        return cls(
            service=str(data["service"]),
            instance=str(data["instance"]),
            address=str(data["address"]),
            port=int(data["port"]),
            health=str(data.get("health", "/health/ready")),
            version=str(data.get("version", "")),
            started=float(data.get("started", 0.0)),
            served=int(data.get("served", 0)),
            scheme=str(data.get("scheme", "http")),
        )


def ordered(instances: Iterable[Instance]) -> list[Instance]:
    """Every list the registry returns is in this order, so two lists compare equal
    when they hold the same instances."""
    return sorted(instances, key=lambda i: (i.service, i.instance))


def membership(instances: Iterable[Instance]) -> list[Instance]:
    """What a watch compares: everything but `served`, which changes with every
    heartbeat and would wake every watcher every few seconds."""
    return [i.with_served(0) for i in ordered(instances)]


class Registry(Protocol):
    """The contract the NATS KV, Consul and static backends keep (and one test
    suite checks: tests/integration/test_registry_contract.py)."""

    ttl: float

    async def register(self, instance: Instance) -> None: ...

    async def heartbeat(self, instance: Instance) -> None:
        """Refreshes the instance's TTL and stores its new `served`. Raises
        `NotRegistered` when the backend no longer knows it."""
        ...

    async def deregister(self, instance: Instance) -> None: ...

    async def instances(self, service: str | None = None) -> list[Instance]:
        """The live instances (of one service, or of all), in `ordered` order."""
        ...

    def watch(self, service: str | None = None) -> AsyncGenerator[list[Instance], None]:
        """The current live list, then the whole list again each time an instance
        joins, leaves (deregistered or its TTL ran out) or changes anything but
        `served`. While the backend is unreachable it keeps quiet and keeps the
        last list (an outage of the registry does not empty every caller's table)."""
        ...

    async def close(self) -> None: ...
