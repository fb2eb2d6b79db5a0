"""`microshop gateway serve`: the gateway alone, on a host of its own, in front of
instances that run on other hosts and register in the NATS registry.

    microshop gateway serve --registry nats://10.0.0.1:4222,nats://10.0.0.2:4222 \
        --host 10.0.0.1 --port 8080

Envoy reads each service's endpoints from a file (file-based EDS, as under `microshop
up`) and EdgeFeed rewrites the file whenever the registry's live instances change,
so hosts that are cut off leave the rotation at their TTL and come back with their
first heartbeat. Runs until SIGINT/SIGTERM, then stops Envoy.
"""

import asyncio
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from microshop.chassis.registry import open_registry
from microshop.gateway.envoy_config import Endpoint, Gateway, render_envoy_config
from microshop.gateway.ratelimit import RateLimit
from microshop.runtime.children import inherited_env
from microshop.runtime.edge import EdgeFeed
from microshop.runtime.envoy import envoy_argv, write_config
from microshop.runtime.processes import ProcessSpec, SupervisedProcess
from microshop.services import APPS

# Never connected to: with file-based EDS a cluster's endpoints come from its file,
# but a service needs one here to get its routes at all.
_PLACEHOLDER = Endpoint("127.0.0.1", 9)


@dataclass(frozen=True)
class EdgeOptions:
    registry_url: str
    run_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    admin_port: int = 9901
    rate_limit: RateLimit | None = None
    max_body_bytes: int = 1024 * 1024
    open_mode: bool = False
    bus_prefix: str = "microshop"
    # The registry bucket is kept on this many NATS servers (as the services' is).
    replicas: int = 1


def edge_gateway(options: EdgeOptions) -> Gateway:
    return Gateway(
        port=options.port,
        admin_port=options.admin_port,
        upstreams={service: [_PLACEHOLDER] for service in APPS},
        rate_limit=options.rate_limit,
        max_body_bytes=options.max_body_bytes,
        host=options.host,
        edge_auth=not options.open_mode,
        eds_dir=options.run_dir / "eds",
    )


async def serve_edge(options: EdgeOptions) -> None:
    registry = open_registry(
        options.registry_url, prefix=options.bus_prefix, replicas=options.replicas
    )
    gateway = edge_gateway(options)
    assert gateway.eds_dir is not None
    feed = EdgeFeed(gateway.eds_dir, APPS, registry)
    feed.write_all({})  # Envoy needs the files; the registry fills them
    config_path = options.run_dir / "envoy.json"
    write_config(config_path, render_envoy_config(gateway))
    envoy = SupervisedProcess(
        ProcessSpec("gateway", envoy_argv(config_path), inherited_env()),
        lambda name, line: print(f"{name} | {line}", flush=True),
        lambda message: print(f"edge | {message}", file=sys.stderr, flush=True),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await envoy.start()
    following = asyncio.create_task(feed.run(), name="edge-feed")
    try:
        await stop.wait()
    finally:
        following.cancel()
        await envoy.stop()
        await registry.close()
