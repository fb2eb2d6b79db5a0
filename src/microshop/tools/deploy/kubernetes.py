"""deploy/kubernetes.yaml: the system on a Kubernetes cluster.

NATS runs as a StatefulSet of three JetStream servers routed to each other (each
with its own volume); the services keep their streams and registry on all three
(MICROSHOP_STREAM_REPLICAS=3) and find each other through Services by name
(static discovery over the cluster's DNS). orders and catalog run two replicas or
more, kept by a PodDisruptionBudget and scaled on CPU by a HorizontalPodAutoscaler.
Keys and passwords come from the Secret `microshop-keys`, which the operator
creates (docs/deploy.md); database URLs from `microshop-databases`.
"""

import json
from typing import Any

from microshop.runtime.nats import NATS_GOGC
from microshop.services import APPS
from microshop.tools.deploy.common import (
    GATEWAY_PORT,
    IMAGE,
    NATS_MONITOR_PORT,
    PORT,
    USER_ID,
    database_url,
    dns_name,
    envoy_args,
    envoy_config,
    nats_args,
    serve,
    shared_env,
)

NATS_NODES = 3
SCALED = {"orders": (2, 6), "catalog": (2, 4)}  # service -> (min, max) replicas
KEYS_SECRET = "microshop-keys"
KEYS_DIR = "/etc/microshop/keys"
Manifest = dict[str, Any]


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "microshop"}


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "labels": _labels(name)}


def _selector(name: str) -> dict[str, Any]:
    return {"matchLabels": {"app.kubernetes.io/name": name}}


def _pod(name: str, container: dict[str, Any], volumes: list[Any]) -> dict[str, Any]:
    return {
        "metadata": {"labels": _labels(name)},
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": USER_ID,
                "runAsGroup": USER_ID,
                "fsGroup": USER_ID,
            },
            "containers": [container],
            "volumes": volumes,
        },
    }


def _deployment(
    name: str, replicas: int, container: dict[str, Any], volumes: list[Any]
) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name),
        "spec": {
            "replicas": replicas,
            "selector": _selector(name),
            "template": _pod(name, container, volumes),
        },
    }


def _service(name: str, ports: dict[str, int], headless: bool = False) -> Manifest:
    spec: dict[str, Any] = {
        "selector": {"app.kubernetes.io/name": name},
        "ports": [{"name": n, "port": p, "targetPort": p} for n, p in ports.items()],
    }
    if headless:
        # Each NATS pod by its own name (nats-0.nats), ready or not: routes form early.
        spec |= {"clusterIP": "None", "publishNotReadyAddresses": True}
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name), "spec": spec}


def _probe(path: str, port: int, period: int = 10) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "timeoutSeconds": 3}


def _resources(cpu: str, memory: str, memory_limit: str) -> dict[str, Any]:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": "1", "memory": memory_limit},
    }


def _secret_env(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": KEYS_SECRET, "key": key}}}


def nats_urls() -> str:
    return ",".join(f"nats://nats-{i}.nats:4222" for i in range(NATS_NODES))


def _nats() -> list[Manifest]:
    routes = ",".join(f"nats://nats-{i}.nats:6222" for i in range(NATS_NODES))
    container = {
        "name": "nats",
        "image": IMAGE,
        "command": ["nats-server"],
        "args": nats_args(
            "--name",
            "$(POD_NAME)",
            "--cluster_name",
            "microshop",
            "--cluster",
            "nats://0.0.0.0:6222",
            "--routes",
            routes,
        ),
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "GOGC", "value": NATS_GOGC},
        ],
        "ports": [
            {"name": "client", "containerPort": 4222},
            {"name": "cluster", "containerPort": 6222},
            {"name": "monitor", "containerPort": NATS_MONITOR_PORT},
        ],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        # Ready once JetStream is current; alive while the server answers at all.
        "readinessProbe": _probe("/healthz", NATS_MONITOR_PORT),
        "livenessProbe": _probe("/healthz?js-enabled-only=true", NATS_MONITOR_PORT, 30),
        "resources": _resources("100m", "128Mi", "512Mi"),
    }
    pod = _pod("nats", container, [])
    del pod["spec"]["volumes"]  # the claim template below names `data`
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta("nats"),
        "spec": {
            "serviceName": "nats",
            "replicas": NATS_NODES,
            "podManagementPolicy": "Parallel",
            "selector": _selector("nats"),
            "template": pod,
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "2Gi"}},
                    },
                }
            ],
        },
    }
    ports = {"client": 4222, "cluster": 6222, "monitor": NATS_MONITOR_PORT}
    return [statefulset, _service("nats", ports, headless=True), _budget("nats", NATS_NODES - 1)]


def _microshop_service(service: str) -> list[Manifest]:
    name = dns_name(service)
    env: list[dict[str, Any]] = [_secret_env("MICROSHOP_SERVICE_KEY", "service-key")]
    mounts: list[dict[str, Any]] = [{"name": "data", "mountPath": "/data"}]
    volumes: list[dict[str, Any]] = [{"name": "data", "emptyDir": {}}]
    if service == "users":
        # Every users replica signs with the same key, and a restart keeps it.
        env += [
            {
                "name": "MICROSHOP_USERS_SIGNING_KEY_FILE",
                "value": f"{KEYS_DIR}/jwt-signing-key.pem",
            },
            _secret_env("MICROSHOP_ADMIN_PASSWORD", "admin-password"),
        ]
        mounts.append({"name": "keys", "mountPath": KEYS_DIR, "readOnly": True})
        items = [{"key": "jwt-signing-key.pem", "path": "jwt-signing-key.pem"}]
        volumes.append({"name": "keys", "secret": {"secretName": KEYS_SECRET, "items": items}})
    container = {
        "name": name,
        "image": IMAGE,
        "args": serve(service),
        "ports": [{"name": "http", "containerPort": PORT}],
        "envFrom": [
            {"configMapRef": {"name": "microshop"}},
            {"secretRef": {"name": "microshop-databases"}},
        ],
        "env": env,
        "volumeMounts": mounts,
        "readinessProbe": _probe("/health/ready", PORT, 5),
        "livenessProbe": _probe("/health", PORT, 20),
        "resources": _resources("100m", "128Mi", "384Mi"),
    }
    replicas = SCALED.get(service, (1, 1))[0]
    docs = [_deployment(name, replicas, container, volumes), _service(name, {"http": PORT})]
    if service in SCALED:
        docs += [_budget(name, 1), _autoscaler(name, *SCALED[service])]
    return docs


def _budget(name: str, min_available: int) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(name),
        "spec": {"minAvailable": min_available, "selector": _selector(name)},
    }


def _autoscaler(name: str, low: int, high: int) -> Manifest:
    cpu = {"type": "Utilization", "averageUtilization": 70}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": cpu}}],
        },
    }


def _gateway() -> list[Manifest]:
    container = {
        "name": "gateway",
        "image": IMAGE,
        "command": ["envoy"],
        "args": envoy_args("/etc/envoy/envoy.json"),
        "ports": [{"name": "http", "containerPort": GATEWAY_PORT}],
        "volumeMounts": [{"name": "config", "mountPath": "/etc/envoy", "readOnly": True}],
        "readinessProbe": _probe("/health", GATEWAY_PORT, 5),
        "livenessProbe": _probe("/health", GATEWAY_PORT, 20),
        "resources": _resources("100m", "64Mi", "256Mi"),
    }
    volumes = [{"name": "config", "configMap": {"name": "microshop-gateway"}}]
    return [
        _deployment("gateway", 1, container, volumes),
        _service("gateway", {"http": GATEWAY_PORT}),
    ]


def config_maps() -> list[Manifest]:
    env = shared_env() | {
        "MICROSHOP_BROKER_URL": nats_urls(),
        "MICROSHOP_STREAM_REPLICAS": "3",
        # Replicas to move to: a breaker open for the chapter's minute is too long.
        "MICROSHOP_BREAKER_RESET_SECONDS": "10",
    }
    databases = {f"MICROSHOP_{s.upper()}_DATABASE_URL": database_url(s, "CHANGE-ME") for s in APPS}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("microshop"), "data": env},
        {
            # Replace these before applying: your PostgreSQL and MariaDB.
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta("microshop-databases"),
            "type": "Opaque",
            "stringData": databases,
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("microshop-gateway"),
            "data": {"envoy.json": json.dumps(envoy_config(), indent=2)},
        },
    ]


def kubernetes() -> list[Manifest]:
    docs = [*config_maps(), *_nats()]
    for service in APPS:
        docs += _microshop_service(service)
    return docs + _gateway()


HEADER = f"""\
# Before `kubectl apply -f deploy/kubernetes.yaml`: build and push deploy/Dockerfile as
# {IMAGE}, set the database URLs in the Secret microshop-databases, and create the keys:
#   openssl genpkey -algorithm ed25519 -out jwt-signing-key.pem
#   kubectl create secret generic {KEYS_SECRET} --from-file=jwt-signing-key.pem \\
#     --from-literal=service-key="$(openssl rand -hex 32)" --from-literal=admin-password='...'
"""
