import json
import sys

import pytest

from microshop.runtime.children import health_url, service_argv, service_env
from microshop.runtime.ports import plan_ports


def test_each_service_runs_as_microshop_serve_on_its_planned_port() -> None:
    assert service_argv("catalog", 8102) == [
        sys.executable,
        *("-m", "microshop", "serve", "catalog", "--port", "8102", "--host", "127.0.0.1"),
    ]
    plan = plan_ports(8080, 8100, ["users", "catalog"])
    assert health_url(plan, "catalog") == "http://127.0.0.1:8102/health/ready"


def test_what_up_decides_wins_over_the_callers_environment_and_the_rest_passes_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MICROSHOP_DATA_DIR", "/somewhere/else")
    monkeypatch.setenv("MICROSHOP_HTTP_TIMEOUT", "7")
    plan = plan_ports(8080, 8100, ["users", "catalog"])
    env = service_env(
        plan, data_dir="/shop", open_mode=True, broker_url="nats://127.0.0.1:8150", bus_prefix="a"
    )
    assert env["MICROSHOP_DATA_DIR"] == "/shop"
    assert env["MICROSHOP_OPEN"] == "1"
    assert json.loads(env["MICROSHOP_PEERS"]) == {
        "users": "http://127.0.0.1:8101",
        "catalog": "http://127.0.0.1:8102",
    }
    assert (env["MICROSHOP_BROKER_URL"], env["MICROSHOP_BUS_PREFIX"]) == (
        "nats://127.0.0.1:8150",
        "a",
    )
    assert env["MICROSHOP_HTTP_TIMEOUT"] == "7"
