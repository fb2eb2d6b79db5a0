"""One JSON line per request served and per event handled, each with its trace id
(and the order id when the work was about one), so one order's path through every
service can be read back: `microshop logs --order 42`.

    log = open_request_log(settings, "orders")
    log.write({"kind": "request", "method": "POST", "route": "/orders", ...})

Written with orjson straight to a line-buffered file, not through structlog: a
line costs a few microseconds, and, unlike stderr under `microshop up`, no other
process reads and rewrites it. A file past MAX_BYTES is moved to `.1` (one
generation kept), so the disk use is bounded.
"""

import os
import sys
import time
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

MAX_BYTES = 50 * 1024 * 1024
CHECK_SIZE_EVERY = 1000


class RequestLog(Protocol):
    def write(self, record: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class NoRequestLog:
    def write(self, record: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


def _stamp(record: dict[str, Any]) -> bytes:
    record["ts"] = round(time.time(), 6)
    return orjson.dumps(record) + b"\n"


class StreamRequestLog:
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def write(self, record: dict[str, Any]) -> None:
        try:
            self.stream.write(_stamp(record))
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a log that cannot be written never fails a request

    def close(self) -> None:
        pass


class FileRequestLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("ab", buffering=0)
        self._written = 0

    def write(self, record: dict[str, Any]) -> None:
        try:
            self._file.write(_stamp(record))
        except (OSError, ValueError):
            return
        self._written += 1
        if self._written % CHECK_SIZE_EVERY == 0 and self._file.tell() > MAX_BYTES:
            self._rotate()

    def _rotate(self) -> None:
        self._file.close()
        os.replace(self.path, self.path.with_suffix(".jsonl.1"))
        self._file = self.path.open("ab", buffering=0)

    def close(self) -> None:
        self._file.close()


def open_request_log(mode: str, data_dir: Path, instance: str) -> RequestLog:
    """mode: `file` (<data_dir>/logs/<instance>.jsonl), `stderr` or `off`."""
    if mode == "off":
        return NoRequestLog()
    if mode == "stderr":
        return StreamRequestLog(sys.stderr.buffer)
    if mode != "file":
        raise ValueError(f"MICROSHOP_REQUEST_LOG is file, stderr or off (not {mode!r})")
    return FileRequestLog(data_dir / "logs" / f"{instance}.jsonl")
