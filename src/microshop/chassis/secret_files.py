"""Secrets on disk: owner-only files (0600) in an owner-only directory (0700)."""

import os
import secrets
from pathlib import Path


def make_private_dir(directory: Path) -> None:
    # mkdir's mode only applies to a directory it creates; an existing one (a mounted
    # Kubernetes secret, say) is the operator's to set up.
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def create_once(path: Path, data: bytes) -> bool:
    """Write `path` unless it exists; False if another process got there first.

    The content goes to a private temp file that is then hard-linked into place,
    which fails rather than overwrites: two replicas starting together never clobber
    each other's file, and nobody ever reads a half-written one.
    """
    make_private_dir(path.parent)
    temp = _write_temp(path, data)
    try:
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    finally:
        temp.unlink()


def replace(path: Path, data: bytes) -> None:
    """Write `path` atomically, replacing what was there."""
    make_private_dir(path.parent)
    temp = _write_temp(path, data)
    os.replace(temp, path)


def _write_temp(path: Path, data: bytes) -> Path:
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return temp
