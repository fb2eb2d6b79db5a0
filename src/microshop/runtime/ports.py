"""Which port each process of a running system listens on, and whether it is free.

The envoy admin interface takes the base port and the services follow it in
`APPS` order; the embedded NATS, when there is one, listens on base + 50 and its
monitoring on base + 51. Two systems run side by side given two bases:

    plan_ports(8080, 8100, ["users", "catalog", "orders"])
    # PortPlan(gateway=8080, admin=8100, services={"users": 8101, "catalog": 8102, "orders": 8103})
"""

import socket
from collections.abc import Iterable
from dataclasses import dataclass

from microshop.runtime.errors import StartupError
from microshop.runtime.nats import NATS_PORT_OFFSET

HOST = "127.0.0.1"


@dataclass(frozen=True)
class PortPlan:
    gateway: int
    admin: int
    services: dict[str, int]
    # None when the system uses an external broker (`--broker`).
    nats: int | None = None
    nats_monitor: int | None = None

    def all_ports(self) -> list[int]:
        nats = [port for port in (self.nats, self.nats_monitor) if port is not None]
        return [self.gateway, self.admin, *self.services.values(), *nats]

    def how_to_move(self, port: int) -> str:
        """What to pass to `microshop up` for `port` to be another one."""
        if port == self.gateway:
            return "choose another with --port"
        if port in (self.nats, self.nats_monitor):
            return (
                f"the embedded NATS listens on --service-port-base + {NATS_PORT_OFFSET}: "
                "choose another --service-port-base, or an external broker with --broker"
            )
        last = self.admin + len(self.services)
        return (
            f"the envoy admin and the services take {self.admin}-{last}: "
            "choose another range with --service-port-base"
        )


def plan_ports(
    gateway_port: int,
    service_port_base: int,
    services: Iterable[str],
    *,
    embedded_nats: bool = False,
) -> PortPlan:
    names = list(services)
    if len(names) >= NATS_PORT_OFFSET:
        raise StartupError(f"too many services ({len(names)}) for one port range")
    nats = service_port_base + NATS_PORT_OFFSET if embedded_nats else None
    plan = PortPlan(
        gateway=gateway_port,
        admin=service_port_base,
        services={name: service_port_base + 1 + i for i, name in enumerate(names)},
        nats=nats,
        nats_monitor=nats + 1 if nats is not None else None,
    )
    for port in plan.all_ports():
        if not 1 <= port <= 65535:
            raise StartupError(
                f"port {port} is outside 1-65535 (check --port and --service-port-base)"
            )
    last = service_port_base + len(names)
    if service_port_base <= gateway_port <= last:
        raise StartupError(
            f"gateway port {gateway_port} collides with the service ports "
            f"{service_port_base}-{last} (choose another --port or --service-port-base)"
        )
    if gateway_port in (plan.nats, plan.nats_monitor):
        raise StartupError(
            f"gateway port {gateway_port} collides with the embedded NATS "
            f"(--service-port-base + {NATS_PORT_OFFSET}); choose another --port"
        )
    return plan


def is_port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # The servers we start set SO_REUSEADDR too: a port held only by connections
        # in TIME_WAIT is free for them, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def ensure_ports_free(plan: PortPlan, host: str = HOST) -> None:
    for port in plan.all_ports():
        if not is_port_free(port, host):
            raise StartupError(f"port {port} is already in use ({plan.how_to_move(port)})")
