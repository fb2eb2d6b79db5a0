"""How many instances of each service `microshop up` runs, and what each is called.

    parse_replicas("orders=2,catalog=2")   # {"orders": 2, "catalog": 2}
    instance_name("orders", 1)             # "orders"   (the first keeps the service's name)
    instance_name("orders", 2)             # "orders-2"
    resolve_target("orders/2", known)      # "orders-2"

The first instance of a service listens on its planned port (what Compose and the
docs show); the others take a free port each: the registry tells everyone where.
"""

import socket
from collections.abc import Iterable, Mapping

from microshop.runtime.errors import StartupError
from microshop.runtime.ports import HOST

MAX_REPLICAS = 8


class UnknownTarget(ValueError):
    """A chaos or scale target that names no service or instance of this system."""


def parse_replicas(text: str | None, services: Iterable[str]) -> dict[str, int]:
    known = list(services)
    counts = dict.fromkeys(known, 1)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, number = part.partition("=")
        name = name.strip()
        if name not in counts:
            raise StartupError(
                f"unknown service {name!r} in --replicas (one of {', '.join(known)})"
            )
        if not number.strip().isdigit() or not 1 <= int(number) <= MAX_REPLICAS:
            raise StartupError(f"--replicas {name}={number}: a count from 1 to {MAX_REPLICAS}")
        counts[name] = int(number)
    return counts


def instance_name(service: str, number: int) -> str:
    return service if number == 1 else f"{service}-{number}"


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def resolve_target(target: str, instances: Mapping[str, str]) -> list[str]:
    """The instance names a target means: `catalog` (all of them), `catalog/2` or
    `catalog/catalog-2` (one). `instances` maps instance name -> service."""
    service, _, which = target.partition("/")
    mine = sorted(name for name, owner in instances.items() if owner == service)
    if not mine:
        services = sorted(set(instances.values()))
        raise UnknownTarget(f"no service {service!r}: one of {', '.join(services)}")
    if not which:
        return mine
    name = instance_name(service, int(which)) if which.isdigit() else which
    if name not in mine:
        raise UnknownTarget(f"no instance {which!r} of {service}: one of {', '.join(mine)}")
    return [name]
