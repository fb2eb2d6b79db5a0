"""`microshop gateway config`: the Envoy configuration `microshop up` runs."""

import json

import typer

from microshop.cli.common import DEFAULT_DATA_DIR, GatewayPort, PortBase, fail
from microshop.runtime.errors import StartupError

gateway_app = typer.Typer(help="The edge gateway (Envoy).", no_args_is_help=True)


@gateway_app.command("config")
def config(port: GatewayPort = 8080, service_port_base: PortBase = 8100) -> None:
    """Print the Envoy configuration `microshop up` would run (JSON, which is valid YAML)."""
    from microshop.gateway.envoy_config import render_envoy_config
    from microshop.gateway.ratelimit import InvalidRateLimit
    from microshop.runtime.settings import RuntimeSettings
    from microshop.runtime.system import UpOptions, build_gateway

    settings = RuntimeSettings()
    try:
        rate_limit = settings.gateway_rate_limit()
        plan = UpOptions(DEFAULT_DATA_DIR, port, service_port_base).port_plan()
    except (InvalidRateLimit, StartupError) as exc:
        fail(str(exc))
    gateway = build_gateway(plan, rate_limit, max_body_bytes=settings.max_body_bytes)
    typer.echo(json.dumps(render_envoy_config(gateway), indent=2))
