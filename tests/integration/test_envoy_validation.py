"""Envoy's own validation (`envoy --mode validate`, a child process) of the configurations
we render and of the one deploy/ ships."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from microshop.cli import app
from microshop.gateway.envoy_config import Endpoint, Gateway, render_envoy_config
from microshop.gateway.ratelimit import RateLimit
from microshop.runtime.envoy import validate_config

DEPLOY = Path(__file__).parents[2] / "deploy"

UPSTREAMS = {
    "users": [Endpoint("127.0.0.1", 8101)],
    "catalog": [Endpoint("127.0.0.1", 8102)],
    "orders": [Endpoint("127.0.0.1", 8103)],
}


def render(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "port": 8080,
        "admin_port": 8100,
        "upstreams": UPSTREAMS,
        "rate_limit": RateLimit(10, 1, 20),
    }
    return render_envoy_config(Gateway(**{**settings, **overrides}))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("rate_limit", [RateLimit(10, 1, 20), None])
def test_envoy_accepts_the_rendered_configuration(
    tmp_path: Path, rate_limit: RateLimit | None
) -> None:
    path = tmp_path / "envoy.json"
    path.write_text(json.dumps(render(rate_limit=rate_limit)))
    assert validate_config(path) is None


@pytest.mark.timeout(60)
def test_the_gateway_config_command_prints_a_configuration_envoy_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROSHOP_RATE_LIMIT", raising=False)
    result = CliRunner().invoke(
        app, ["gateway", "config", "--port", "9080", "--service-port-base", "9100"]
    )
    assert result.exit_code == 0, result.output
    config = json.loads(result.output)
    assert config["static_resources"]["listeners"][0]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 9080,
    }
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    users = clusters["users"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    assert users["endpoint"]["address"]["socket_address"]["port_value"] == 9101
    path = tmp_path / "envoy.json"
    path.write_text(result.output)
    assert validate_config(path) is None


def test_the_containers_gateway_config_passes_envoys_own_validation() -> None:
    envoy = Path(sys.prefix) / "bin" / "envoy"
    result = subprocess.run(
        [str(envoy), "--mode", "validate", "-c", str(DEPLOY / "envoy.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
