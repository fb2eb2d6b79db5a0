"""How the supervisor runs each service: `microshop serve <name>` in a child process,
told through its environment where its data, its peers and the broker are.

    service_argv("catalog", 8102)   # [python, -m, microshop, serve, catalog, --port, 8102, ...]
"""

import json
import os
import sys

from microshop.runtime.ports import HOST, PortPlan


def url(port: int, path: str = "") -> str:
    return f"http://{HOST}:{port}{path}"


# How a service process is run: this program, then the command.
PROGRAM = [sys.executable, "-m", "microshop"]


def service_argv(name: str, port: int) -> list[str]:
    return [*PROGRAM, "serve", name, "--port", str(port), "--host", HOST]


def command_of(argv: list[str]) -> list[str]:
    """The `microshop` command in a service's argv (what the zygote runs)."""
    assert argv[: len(PROGRAM)] == PROGRAM, argv
    return argv[len(PROGRAM) :]


def inherited_env() -> dict[str, str]:
    """The supervisor's own environment, for NATS and Envoy as for the services."""
    return dict(os.environ)


def service_env(
    plan: PortPlan, *, data_dir: str, open_mode: bool, broker_url: str, bus_prefix: str
) -> dict[str, str]:
    """The caller's environment plus what `up` decides for every service; these win
    over any value the caller set (chassis/settings.py reads them)."""
    peers = {name: url(port) for name, port in plan.services.items()}
    return {
        **inherited_env(),
        "MICROSHOP_DATA_DIR": data_dir,
        "MICROSHOP_OPEN": "1" if open_mode else "0",
        "MICROSHOP_PEERS": json.dumps(peers),
        "MICROSHOP_BROKER_URL": broker_url,
        "MICROSHOP_BUS_PREFIX": bus_prefix,
        "PYTHONUNBUFFERED": "1",
    }


def health_url(plan: PortPlan, service: str) -> str:
    return url(plan.services[service], "/health/ready")
