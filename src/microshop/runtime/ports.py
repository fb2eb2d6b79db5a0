"""Which port each process of a running system listens on, and whether it is free.

The envoy admin interface takes the base port and the services follow it in
`APPS` order, so two systems run side by side given two bases:

    plan_ports(8080, 8100, ["users", "catalog", "orders"])
    # PortPlan(gateway=8080, admin=8100, services={"users": 8101, "catalog": 8102, "orders": 8103})
"""

import socket
from collections.abc import Iterable
from dataclasses import dataclass

from microshop.runtime.errors import StartupError

HOST = "127.0.0.1"


@dataclass(frozen=True)
class PortPlan:
    gateway: int
    admin: int
    services: dict[str, int]

    def all_ports(self) -> list[int]:
        return [self.gateway, self.admin, *self.services.values()]


def plan_ports(gateway_port: int, service_port_base: int, services: Iterable[str]) -> PortPlan:
    names = list(services)
    plan = PortPlan(
        gateway=gateway_port,
        admin=service_port_base,
        services={name: service_port_base + 1 + i for i, name in enumerate(names)},
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


def ensure_ports_free(ports: Iterable[int], host: str = HOST) -> None:
    for port in ports:
        if not is_port_free(port, host):
            raise StartupError(f"port {port} is already in use")
