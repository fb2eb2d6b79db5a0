"""`microshop gateway serve`: the gateway alone, its endpoints from the registry."""

from pathlib import Path

from typer.testing import CliRunner

from microshop.cli import app
from microshop.gateway.envoy_config import render_envoy_config
from microshop.runtime.edge_host import EdgeOptions, edge_gateway
from microshop.services import APPS


def test_every_service_is_routed_to_the_endpoints_its_file_lists(tmp_path: Path) -> None:
    options = EdgeOptions("nats://10.0.0.1:4222", tmp_path, host="10.0.0.1", port=8080)
    config = render_envoy_config(edge_gateway(options))
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    assert set(APPS) <= set(clusters)
    for service in APPS:
        source = clusters[service]["eds_cluster_config"]["eds_config"]["path_config_source"]
        assert source["path"] == str(tmp_path / "eds" / f"{service}.json")
    listener = config["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert (listener["address"], listener["port_value"]) == ("10.0.0.1", 8080)


def test_the_edge_follows_only_a_nats_registry() -> None:
    result = CliRunner().invoke(app, ["gateway", "serve", "--registry", "static:"])
    assert result.exit_code == 1
    assert "nats://" in result.output
