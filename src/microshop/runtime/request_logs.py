"""The services' request logs (chassis/request_log.py: one JSON line per request
served and per event handled, in `<data dir>/logs/<instance>.jsonl`), read back:
one service's lines, or one order's path across every service.

    records = order_path(read_records(log_files(paths)), order_id=42)
    for record in records:
        print(describe(record))

An order's path is every line of the traces that touched it: the lines that name
the order (its POST, its events) give their trace ids, and every line of those
traces belongs to it, whichever service wrote it.
"""

import json
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from microshop.runtime.errors import StartupError
from microshop.runtime.state import RunPaths

Record = dict[str, Any]
FOLLOW_POLL_S = 0.2


def log_files(paths: RunPaths, service: str | None = None) -> list[Path]:
    folder = paths.data_dir / "logs"
    files = sorted(folder.glob("*.jsonl"))
    if service is not None:
        files = [f for f in files if f.stem == service or f.stem.startswith(f"{service}-")]
    if not files:
        which = f" of {service}" if service else ""
        raise StartupError(
            f"no request log{which} in {folder}: the services write one when "
            "MICROSHOP_REQUEST_LOG is `file` (the default)"
        )
    return files


def _parse(line: str) -> Record | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "trace_id" in record else None


def read_records(files: Iterable[Path]) -> list[Record]:
    records = []
    for path in files:
        with path.open(errors="replace") as log:
            records += [r for line in log if (r := _parse(line)) is not None]
    return sorted(records, key=lambda r: r.get("ts", 0))


def order_path(records: list[Record], order_id: int) -> list[Record]:
    traces = {r["trace_id"] for r in records if r.get("order_id") == order_id}
    return [r for r in records if r["trace_id"] in traces or r.get("order_id") == order_id]


class OrderFilter:
    """Follows an order's traces as lines arrive: a line naming the order adds
    its trace; a line of a known trace belongs to the order."""

    def __init__(self, order_id: int, known: Iterable[Record] = ()) -> None:
        self.order_id = order_id
        self.traces = {r["trace_id"] for r in known if r.get("order_id") == order_id}

    def __call__(self, record: Record) -> bool:
        if record.get("order_id") == self.order_id:
            self.traces.add(record["trace_id"])
        return record["trace_id"] in self.traces


def describe(record: Record) -> str:
    at = datetime.fromtimestamp(record.get("ts", 0), UTC).strftime("%H:%M:%S.%f")[:-3]
    who = f"{record.get('instance') or record.get('service', '?'):<14}"
    if record.get("kind") == "event":
        what = f"event   {record.get('type')} from {record.get('source')}: {record.get('outcome')}"
    else:
        what = f"request {record.get('method')} {record.get('path')} -> {record.get('status')}"
    order = f" order={record['order_id']}" if "order_id" in record else ""
    error = f" error={record['error']!r}" if "error" in record else ""
    return f"{at} {who} {what} {record.get('ms')} ms trace={record['trace_id']}{order}{error}"


def follow_records(
    files: list[Path], wait: Callable[[], None] = lambda: time.sleep(FOLLOW_POLL_S)
) -> Iterator[Record]:
    """Every line appended to `files` from this call on; never ends by itself."""
    opened: list[IO[str]] = []
    for path in files:
        log = path.open(errors="replace")
        log.seek(0, 2)
        opened.append(log)
    partial = [""] * len(opened)
    try:
        while True:
            got = False
            for i, log in enumerate(opened):
                while read := log.readline():
                    got = True
                    partial[i] += read
                    if partial[i].endswith("\n"):
                        record, partial[i] = _parse(partial[i]), ""
                        if record is not None:
                            yield record
            if not got:
                wait()
    finally:
        for log in opened:
            log.close()
