"""`microshop gateway config`: the Envoy configuration `microshop up` runs;
`microshop gateway serve`: the gateway alone, following a registry."""

import json
from pathlib import Path
from typing import Annotated

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


@gateway_app.command("serve")
def serve(
    registry: Annotated[
        str, typer.Option("--registry", help="nats://host:4222[,nats://host2:4222...]")
    ],
    host: Annotated[str, typer.Option("--host", help="the address to listen on")] = "127.0.0.1",
    port: GatewayPort = 8080,
    admin_port: Annotated[int, typer.Option("--admin-port", help="Envoy's admin port")] = 9901,
    run_dir: Annotated[
        Path, typer.Option("--run-dir", help="where the config and endpoint files go")
    ] = DEFAULT_DATA_DIR / "edge",
    open_mode: Annotated[
        bool, typer.Option("--open", help="no token checks at the edge (open mode)")
    ] = False,
    replicas: Annotated[
        int, typer.Option("--replicas", min=1, help="NATS servers the registry is kept on")
    ] = 1,
) -> None:
    """Run the gateway alone, in front of the instances a NATS registry lists (a
    host of its own in a cluster)."""
    import asyncio

    from microshop.gateway.ratelimit import InvalidRateLimit
    from microshop.runtime.edge_host import EdgeOptions, serve_edge
    from microshop.runtime.envoy import envoy_binary
    from microshop.runtime.settings import DEFAULT_BUS_PREFIX, RuntimeSettings

    if not registry.startswith(("nats://", "tls://")):
        fail(f"the gateway follows a NATS registry: give nats://... (not {registry!r})")
    settings = RuntimeSettings()
    try:
        envoy_binary()
        options = EdgeOptions(
            registry_url=registry,
            run_dir=run_dir.resolve(),
            host=host,
            port=port,
            admin_port=admin_port,
            rate_limit=settings.gateway_rate_limit(),
            max_body_bytes=settings.max_body_bytes,
            open_mode=open_mode,
            bus_prefix=settings.bus_prefix or DEFAULT_BUS_PREFIX,
            replicas=replicas,
        )
    except (InvalidRateLimit, StartupError) as exc:
        fail(str(exc))
    asyncio.run(serve_edge(options))
