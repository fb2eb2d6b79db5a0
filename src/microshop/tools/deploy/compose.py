"""deploy/compose.yaml: the whole system on one Docker engine.

    docker compose -f deploy/compose.yaml up -d --wait                  # NATS JetStream
    COMPOSE_PROFILES=rabbitmq docker compose -f deploy/compose.yaml up -d --wait
    docker compose -f deploy/compose.yaml --profile nats --profile observability up -d

Every image is built from deploy/ (Debian's packages and the project's wheel), every
container runs as an unprivileged user with a health check, and only the gateway
publishes a port. The broker is a profile: deploy/.env makes `nats` the default,
and each service reads its broker URL from `broker-<profile>.env`. The services
share one volume for their secrets (the service key and the token signing key,
made by the first to start) and find each other by name (static discovery).
"""

from typing import Any

from microshop.runtime.nats import NATS_GOGC
from microshop.services import APPS
from microshop.tools.deploy.common import (
    ENVOY_ADMIN_PORT,
    GATEWAY_PORT,
    IMAGE,
    MARIADB_IMAGE,
    NATS_MONITOR_PORT,
    ON_MARIADB,
    PORT,
    POSTGRES_IMAGE,
    RABBITMQ_IMAGE,
    database_url,
    dns_name,
    envoy_args,
    nats_args,
    serve,
    shared_env,
)

BROKERS = {
    "nats": "nats://nats:4222",
    "rabbitmq": "amqp://microshop:microshop@rabbitmq:5672/",
}
DEFAULT_PROFILE = "nats"
# A local base image (`make test-compose` makes one) instead of Docker Hub's.
BASE = "${MICROSHOP_BASE_IMAGE:-debian:bookworm-slim}"
# 5 s keeps a dozen checks (each a short-lived process) cheap on two cores.
HEALTH_TIMING = {"interval": "5s", "timeout": "3s", "retries": 5, "start_period": "120s"}


def _build(context: str, dockerfile: str | None = None) -> dict[str, Any]:
    build: dict[str, Any] = {"context": context}
    if dockerfile:
        build["dockerfile"] = dockerfile
    build["args"] = {"BASE": BASE}
    return build


def _http_check(url: str) -> dict[str, Any]:
    code = f"import urllib.request; urllib.request.urlopen('{url}', timeout=2)"
    return {"test": ["CMD", "python3", "-c", code], **HEALTH_TIMING}


def _check(*argv: str) -> dict[str, Any]:
    return {"test": ["CMD", *argv], **HEALTH_TIMING}


def _healthy(*names: str, required: bool = True, restart: bool = False) -> dict[str, Any]:
    condition: dict[str, Any] = {"condition": "service_healthy"}
    if not required:
        condition["required"] = False  # the broker of the profile that is not running
    if restart:
        condition["restart"] = True  # restarted when Compose recreates the dependency
    return {name: dict(condition) for name in names}


def _app(**spec: Any) -> dict[str, Any]:
    """A container of the microshop image."""
    return {"image": IMAGE, "build": _build("..", "deploy/Dockerfile"), **spec}


def _service(service: str) -> dict[str, Any]:
    return _app(
        command=serve(service),
        env_file=[f"broker-${{COMPOSE_PROFILES:-{DEFAULT_PROFILE}}}.env"],
        environment={
            **shared_env(),
            # Open mode (no tokens) for the chapter's walkthrough: MICROSHOP_OPEN=true.
            "MICROSHOP_OPEN": "${MICROSHOP_OPEN:-false}",
            f"MICROSHOP_{service.upper()}_DATABASE_URL": database_url(service),
            **({"MICROSHOP_ADMIN_PASSWORD": None} if service == "users" else {}),
        },
        volumes=[f"{dns_name(service)}-data:/data", "secrets:/data/secrets"],
        depends_on={
            **_healthy(*BROKERS, required=False),
            **_healthy("mariadb" if service in ON_MARIADB else "postgres"),
        },
        healthcheck=_http_check(f"http://127.0.0.1:{PORT}/health/ready"),
        restart="unless-stopped",
    )


def _infrastructure() -> dict[str, Any]:
    return {
        "nats": _app(
            profiles=["nats"],
            entrypoint=["nats-server"],
            command=nats_args("--name", "nats"),
            environment={"GOGC": NATS_GOGC},
            volumes=["nats-data:/data"],
            healthcheck=_http_check(f"http://127.0.0.1:{NATS_MONITOR_PORT}/healthz"),
            restart="unless-stopped",
        ),
        "rabbitmq": {
            "image": RABBITMQ_IMAGE,
            "build": _build("rabbitmq"),
            "profiles": ["rabbitmq"],
            "hostname": "rabbitmq",  # its node name, and so its data, follows the host name
            "volumes": ["rabbitmq-data:/var/lib/rabbitmq/mnesia"],
            "restart": "unless-stopped",
        },
        "postgres": {
            "image": POSTGRES_IMAGE,
            "build": _build("postgres"),
            "environment": {"POSTGRES_USER": "microshop", "POSTGRES_PASSWORD": "microshop"},
            "volumes": [
                "postgres-data:/var/lib/postgresql/data",
                "./postgres-init.sql:/docker-entrypoint-initdb.d/init.sql:ro",
            ],
            "restart": "unless-stopped",
        },
        "mariadb": {
            "image": MARIADB_IMAGE,
            "build": _build("mariadb"),
            "environment": {
                "MARIADB_DATABASE": "microshop_orders",
                "MARIADB_USER": "microshop",
                "MARIADB_PASSWORD": "microshop",
            },
            "volumes": ["mariadb-data:/var/lib/mysql"],
            "restart": "unless-stopped",
        },
    }


def _gateway() -> dict[str, Any]:
    return _app(
        entrypoint=["envoy"],
        command=envoy_args("/etc/envoy/envoy.json"),
        volumes=["./envoy.json:/etc/envoy/envoy.json:ro"],
        ports=[f"${{MICROSHOP_GATEWAY_PORT:-{GATEWAY_PORT}}}:{GATEWAY_PORT}"],
        # A recreated service comes back on a new address, and its old one may go to
        # another service meanwhile: Envoy, which resolved the names before, would
        # send that service's requests to the wrong container until it resolves
        # again (seen here: POST /api/auth/token answered 404 by another service).
        # Compose restarts the gateway once the recreated service is healthy.
        depends_on=_healthy(*(dns_name(s) for s in APPS), restart=True),
        healthcheck=_http_check(f"http://127.0.0.1:{ENVOY_ADMIN_PORT}/ready"),
        restart="unless-stopped",
    )


def _observability() -> dict[str, Any]:
    """Prometheus and Grafana, off unless the `observability` profile is asked for.
    Their images come from Docker Hub (no Debian package has Grafana), so
    `make test-compose`, which pulls nothing, does not run them."""
    return {
        "prometheus": {
            "image": "prom/prometheus:v3.5.0",
            "profiles": ["observability"],
            "volumes": ["./observability/prometheus.yml:/etc/prometheus/prometheus.yml:ro"],
            "ports": ["${MICROSHOP_PROMETHEUS_PORT:-9090}:9090"],
            "depends_on": _healthy("gateway"),
            "restart": "unless-stopped",
        },
        "grafana": {
            "image": "grafana/grafana:12.1.0",
            "profiles": ["observability"],
            "volumes": [
                "./observability/grafana/provisioning:/etc/grafana/provisioning:ro",
                "./observability/grafana/dashboards:/var/lib/grafana/dashboards:ro",
            ],
            "ports": ["${MICROSHOP_GRAFANA_PORT:-3000}:3000"],
            "depends_on": ["prometheus"],
            "restart": "unless-stopped",
        },
    }


def compose() -> dict[str, Any]:
    services = _infrastructure()
    for service in APPS:
        services[dns_name(service)] = _service(service)
    services["gateway"] = _gateway()
    services.update(_observability())
    volumes = [
        *(v.split(":")[0] for s in services.values() for v in s.get("volumes", [])),
    ]
    named = [v for v in dict.fromkeys(volumes) if not v.startswith(".")]
    return {"name": "microshop", "services": services, "volumes": {v: {} for v in named}}


def env_files() -> dict[str, str]:
    """deploy/.env (the default profile) and each profile's broker."""
    files = {
        ".env": "# Read by docker compose: NATS unless COMPOSE_PROFILES says rabbitmq.\n"
        f"COMPOSE_PROFILES={DEFAULT_PROFILE}\n"
    }
    for profile, url in BROKERS.items():
        files[f"broker-{profile}.env"] = f"MICROSHOP_BROKER_URL={url}\n"
    return files
