"""deploy/ is generated from the code, current, and valid for its tools (Envoy's own check
of its envoy.json: tests/integration/test_envoy_validation.py; the Compose file run for
real: `make test-compose`)."""

import functools
import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from microshop.services import APPS
from microshop.tools.deploy import PORT, dns_name, files

DEPLOY = Path(__file__).parents[2] / "deploy"


# Parsed once for the whole module (with libyaml where PyYAML has it): the files are
# read by most tests, and pure-Python parsing took seconds of the unit suite.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _compose() -> dict[str, Any]:
    return dict(yaml.load((DEPLOY / "compose.yaml").read_text(), Loader=_LOADER))


@functools.cache
def _manifests() -> list[dict[str, Any]]:
    return list(yaml.load_all((DEPLOY / "kubernetes.yaml").read_text(), Loader=_LOADER))


def _kind(kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in _manifests() if m["kind"] == kind}


def test_the_checked_in_deploy_files_match_the_code() -> None:
    for name, content in files().items():
        assert (DEPLOY / name).read_text() == content, "run: microshop deploy write"


def test_every_kubernetes_manifest_is_valid_against_the_api_schema() -> None:
    for manifest in _manifests():
        kubernetes_validate.validate(manifest, "1.37.0", strict=True)


def test_compose_runs_every_service_with_its_own_database_and_its_peers_by_name() -> None:
    services = _compose()["services"]
    for service in APPS:
        entry = services[dns_name(service)]
        env = entry["environment"]
        assert entry["command"] == ["serve", service, "--host", "0.0.0.0", "--port", str(PORT)]
        assert env[f"MICROSHOP_{service.upper()}_DATABASE_URL"].endswith(f"/microshop_{service}")
        peers = json.loads(env["MICROSHOP_PEERS"])
        assert all(url.split("//")[1].split(":")[0] in services for url in peers.values())
        assert set(entry["depends_on"]) <= set(services)
    assert services["orders"]["environment"]["MICROSHOP_ORDERS_DATABASE_URL"].startswith(
        "mysql+asyncmy://"
    )
    assert services["gateway"]["ports"] == ["${MICROSHOP_GATEWAY_PORT:-8080}:8080"]
    assert "ports" not in services["orders"], "only the gateway is published"


def test_every_compose_image_is_built_here_and_every_container_is_checked() -> None:
    for name, entry in _compose()["services"].items():
        if entry.get("profiles") == ["observability"]:
            continue  # Prometheus and Grafana, opt-in, come as their projects ship them
        assert "build" in entry, f"{name} would be pulled from a registry"
        dockerfile = DEPLOY / entry["build"]["context"] / entry["build"].get("dockerfile", "")
        text = (dockerfile if dockerfile.is_file() else dockerfile / "Dockerfile").read_text()
        assert "\nUSER " in text and "\nHEALTHCHECK " in text, name


def test_nats_is_the_default_broker_and_the_rabbitmq_profile_replaces_it() -> None:
    services = _compose()["services"]
    assert services["nats"]["profiles"] == ["nats"]
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]
    assert "COMPOSE_PROFILES=nats" in (DEPLOY / ".env").read_text()
    for profile, host in (("nats", "nats://nats:4222"), ("rabbitmq", "@rabbitmq:5672")):
        assert host in (DEPLOY / f"broker-{profile}.env").read_text()
    assert services["orders"]["env_file"] == ["broker-${COMPOSE_PROFILES:-nats}.env"]


def test_kubernetes_runs_nats_as_a_three_node_jetstream_cluster_the_services_all_use() -> None:
    nats = _kind("StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    args = nats["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "-js" in args and args[args.index("--routes") + 1].count("nats://nats-") == 3
    config = _kind("ConfigMap")["microshop"]["data"]
    assert config["MICROSHOP_BROKER_URL"].count("nats://nats-") == 3
    assert config["MICROSHOP_STREAM_REPLICAS"] == "3"
    assert config["MICROSHOP_REGISTRY_URL"] == "static:"


def test_every_kubernetes_container_has_probes_and_resources_and_runs_as_no_root() -> None:
    workloads = _kind("Deployment") | _kind("StatefulSet")
    assert set(workloads) == {"nats", "gateway", *(dns_name(s) for s in APPS)}
    for name, workload in workloads.items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert container["readinessProbe"] and container["livenessProbe"], name
            assert container["resources"]["requests"] and container["resources"]["limits"], name


def test_orders_and_catalog_are_kept_and_scaled_and_users_signs_with_a_secret_key() -> None:
    for name in ("orders", "catalog"):
        assert _kind("Deployment")[name]["spec"]["replicas"] >= 2
        assert _kind("PodDisruptionBudget")[name]["spec"]["minAvailable"] >= 1
        assert _kind("HorizontalPodAutoscaler")[name]["spec"]["scaleTargetRef"]["name"] == name
    users = _kind("Deployment")["users"]["spec"]["template"]["spec"]
    env = {e["name"]: e for e in users["containers"][0]["env"]}
    key_file = env["MICROSHOP_USERS_SIGNING_KEY_FILE"]["value"]
    mount = next(m for m in users["containers"][0]["volumeMounts"] if m["name"] == "keys")
    assert key_file.startswith(mount["mountPath"])
    secret = next(v for v in users["volumes"] if v["name"] == "keys")["secret"]
    assert secret["secretName"] == "microshop-keys"


def test_compose_has_an_observability_profile_scraping_every_service_and_the_gateway() -> None:
    services = _compose()["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["observability"]
    assert (
        "./observability/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in (services["prometheus"]["volumes"])
    )
    assert all("profiles" not in services[s] for s in ("gateway", "orders", "catalog"))


def test_the_containers_gateway_publishes_only_its_prometheus_stats_beside_the_api() -> None:
    config = json.loads((DEPLOY / "envoy.json").read_text())
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    metrics = next(x for x in config["static_resources"]["listeners"] if x["name"] == "metrics")
    manager = metrics["filter_chains"][0]["filters"][0]["typed_config"]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    assert [r["match"]["path"] for r in routes] == ["/stats/prometheus"]


def test_nats_runs_with_the_same_go_collector_setting_in_compose_and_kubernetes() -> None:
    assert _compose()["services"]["nats"]["environment"] == {"GOGC": "50"}
    container = _kind("StatefulSet")["nats"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "GOGC", "value": "50"} in container["env"]
