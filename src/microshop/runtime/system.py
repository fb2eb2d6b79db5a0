"""What `microshop up` runs: its options, the checks made first, the broker behind
the services and the gateway in front."""

from dataclasses import dataclass, field
from pathlib import Path

from microshop.gateway.envoy_config import Endpoint, Gateway
from microshop.gateway.ratelimit import RateLimit
from microshop.runtime.checks import check_data_dir, ensure_not_running
from microshop.runtime.envoy import envoy_binary
from microshop.runtime.errors import StartupError
from microshop.runtime.nats import nats_binary, nats_url
from microshop.runtime.ports import HOST, PortPlan, ensure_ports_free, plan_ports
from microshop.runtime.settings import DEFAULT_BUS_PREFIX, DEFAULT_MAX_BODY_BYTES
from microshop.runtime.state import RunPaths
from microshop.services import APPS


@dataclass(frozen=True)
class UpOptions:
    data_dir: Path
    gateway_port: int = 8080
    service_port_base: int = 8100
    open_mode: bool = False
    rate_limit: RateLimit | None = None
    # An external broker (nats://... or amqp://...); None starts the embedded NATS.
    external_broker: str | None = None
    bus_prefix: str = DEFAULT_BUS_PREFIX
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    services: tuple[str, ...] = field(default_factory=lambda: tuple(APPS))
    # Instances per service (`--replicas orders=2,catalog=2`); 1 where not named.
    replicas: dict[str, int] = field(default_factory=dict)

    def replicas_of(self, service: str) -> int:
        return self.replicas.get(service, 1)

    @property
    def paths(self) -> RunPaths:
        return RunPaths(self.data_dir)

    @property
    def embedded_nats(self) -> bool:
        return self.external_broker is None

    def port_plan(self) -> PortPlan:
        return plan_ports(
            self.gateway_port,
            self.service_port_base,
            self.services,
            embedded_nats=self.embedded_nats,
        )

    def broker_url(self, plan: PortPlan) -> str:
        if self.external_broker is not None:
            return self.external_broker
        assert plan.nats is not None
        return nats_url(HOST, plan.nats)


def check_broker_url(url: str) -> None:
    if not url.startswith(("nats://", "amqp://", "amqps://")):
        raise StartupError(f"unsupported broker URL {url!r}: use nats:// or amqp://")


def preflight(options: UpOptions) -> PortPlan:
    """Everything that can be checked before starting anything."""
    check_data_dir(options.data_dir)
    ensure_not_running(options.paths)
    envoy_binary()
    if options.external_broker is None:
        nats_binary()
    else:
        check_broker_url(options.external_broker)
    plan = options.port_plan()
    ensure_ports_free(plan)
    return plan


def build_gateway(
    plan: PortPlan,
    rate_limit: RateLimit | None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    edge_auth: bool = True,
    eds_dir: Path | None = None,
) -> Gateway:
    return Gateway(
        port=plan.gateway,
        admin_port=plan.admin,
        upstreams={name: [Endpoint(HOST, port)] for name, port in plan.services.items()},
        rate_limit=rate_limit,
        max_body_bytes=max_body_bytes,
        edge_auth=edge_auth,
        eds_dir=eds_dir,
    )
