"""What `microshop up` runs: its options, the checks made first, the gateway in front."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from microshop.gateway.envoy_config import Endpoint, Gateway
from microshop.gateway.ratelimit import RateLimit
from microshop.runtime.checks import check_data_dir, ensure_not_running
from microshop.runtime.envoy import envoy_binary
from microshop.runtime.ports import HOST, PortPlan, ensure_ports_free, plan_ports
from microshop.runtime.state import RunPaths
from microshop.services import APPS

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class UpOptions:
    data_dir: Path
    gateway_port: int = 8080
    service_port_base: int = 8100
    open_mode: bool = False
    rate_limit: RateLimit | None = None
    services: tuple[str, ...] = field(default_factory=lambda: tuple(APPS))

    @property
    def paths(self) -> RunPaths:
        return RunPaths(self.data_dir)

    def port_plan(self) -> PortPlan:
        return plan_ports(self.gateway_port, self.service_port_base, self.services)


def preflight(options: UpOptions) -> PortPlan:
    """Everything that can be checked before starting anything."""
    check_data_dir(options.data_dir)
    ensure_not_running(options.paths)
    envoy_binary()
    plan = options.port_plan()
    ensure_ports_free(plan.all_ports())
    return plan


def build_gateway(plan: PortPlan, rate_limit: RateLimit | None) -> Gateway:
    return Gateway(
        port=plan.gateway,
        admin_port=plan.admin,
        upstreams={name: [Endpoint(HOST, port)] for name, port in plan.services.items()},
        rate_limit=rate_limit,
        max_body_bytes=int(os.environ.get("MICROSHOP_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
    )
