"""The servers microshop runs (Envoy, nats-server) come as pip packages that put a
binary beside this Python; one found on the PATH does too."""

import shutil
import sys
from pathlib import Path

from microshop.runtime.errors import StartupError


def bundled_binary(name: str, missing: str) -> Path:
    """The binary `name` in this Python's bin/, else on the PATH; `missing` says what
    to do when it is neither."""
    bundled = Path(sys.prefix) / "bin" / name
    if bundled.is_file():
        return bundled
    found = shutil.which(name)
    if found is None:
        raise StartupError(missing)
    return Path(found)
