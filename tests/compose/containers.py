"""The containers of the running Compose project, as the Docker engine reports them."""

import base64
import json
import os
import subprocess
from typing import Any


def compose(*args: str, timeout: float = 60) -> str:
    result = subprocess.run(
        ["docker", "compose", *args], capture_output=True, text=True, timeout=timeout, check=True
    )
    return result.stdout


def containers() -> list[dict[str, Any]]:
    """`docker inspect` of every container of the project."""
    ids = compose("ps", "--all", "--quiet").split()
    assert ids, "no container runs"
    out = subprocess.run(
        ["docker", "inspect", *ids], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return list(json.loads(out))


def service_of(container: dict[str, Any]) -> str:
    return str(container["Config"]["Labels"]["com.docker.compose.service"])


def uid_in(container: dict[str, Any]) -> int:
    """The user id its main process runs as."""
    out = subprocess.run(
        ["docker", "exec", container["Id"], "id", "-u"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return int(out.strip())


def files_in(service: str, folder: str) -> dict[str, bytes]:
    """name -> content of the files in `folder` of the service's container."""
    script = (
        "import base64, json, pathlib, sys; "
        f"p = pathlib.Path({folder!r}); "
        "print(json.dumps({f.name: base64.b64encode(f.read_bytes()).decode() "
        "for f in (sorted(p.iterdir()) if p.is_dir() else [])}))"
    )
    out = compose("exec", "-T", service, "python3", "-c", script)
    return {name: base64.b64decode(data) for name, data in json.loads(out).items()}


def broker() -> str:
    return os.environ.get("MICROSHOP_COMPOSE_BROKER", "nats")
