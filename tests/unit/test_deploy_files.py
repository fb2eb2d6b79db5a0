"""deploy/ is generated from the code, current, and valid for its tools (Envoy's own check
of its envoy.json: tests/integration/test_envoy_validation.py)."""

import json
from pathlib import Path

import kubernetes_validate
import yaml

from microshop.services import APPS
from microshop.tools.deploy import PORT, dns_name, files

DEPLOY = Path(__file__).parents[2] / "deploy"


def test_the_checked_in_deploy_files_match_the_code() -> None:
    for name, content in files().items():
        assert (DEPLOY / name).read_text() == content, "run: microshop deploy write"


def test_every_kubernetes_manifest_is_valid_against_the_api_schema() -> None:
    for manifest in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text()):
        kubernetes_validate.validate(manifest, "1.37.0", strict=True)


def test_compose_runs_every_service_with_its_own_database_and_its_peers_by_name() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    for service in APPS:
        entry = services[dns_name(service)]
        env = entry["environment"]
        assert entry["command"] == ["serve", service, "--host", "0.0.0.0", "--port", str(PORT)]
        assert env[f"MICROSHOP_{service.upper()}_DATABASE_URL"].endswith(f"/microshop_{service}")
        peers = json.loads(env["MICROSHOP_PEERS"])
        assert all(url.split("//")[1].split(":")[0] in services for url in peers.values())
        assert set(entry["depends_on"]) <= set(services)
    assert services["gateway"]["ports"] == ["8080:8080"]
    assert "ports" not in services["orders"], "only the gateway is published"
