import json
from pathlib import Path

import pytest

from microshop.chassis.request_log import FileRequestLog, open_request_log
from microshop.runtime.errors import StartupError
from microshop.runtime.request_logs import (
    OrderFilter,
    describe,
    follow_records,
    log_files,
    order_path,
    read_records,
)
from microshop.runtime.state import RunPaths


def write(folder: Path, instance: str, *records: dict[str, object]) -> None:
    log = FileRequestLog(folder / "logs" / f"{instance}.jsonl")
    for record in records:
        log.write(dict(record))
    log.close()


def test_an_orders_path_is_every_line_of_the_traces_that_named_it(tmp_path: Path) -> None:
    write(tmp_path, "orders", {"kind": "request", "trace_id": "t1", "order_id": 7, "status": 201})
    write(tmp_path, "payments", {"kind": "request", "trace_id": "t1", "status": 201})
    write(tmp_path, "catalog", {"kind": "request", "trace_id": "t2", "status": 200})
    write(tmp_path, "notifications", {"kind": "event", "trace_id": "t3", "order_id": 7})
    with (tmp_path / "logs" / "orders.jsonl").open("a") as log:
        log.write("not json\n")

    records = order_path(read_records(log_files(RunPaths(tmp_path))), 7)

    assert sorted(r["trace_id"] for r in records) == ["t1", "t1", "t3"]
    assert [f.stem for f in log_files(RunPaths(tmp_path), "orders")] == ["orders"]
    assert "order=7" in describe(records[0])


def test_following_adds_the_traces_of_lines_that_name_the_order(tmp_path: Path) -> None:
    write(tmp_path, "orders", {"trace_id": "old"})
    files = log_files(RunPaths(tmp_path))
    later = [
        {"trace_id": "t9", "order_id": 8},
        {"trace_id": "t9", "kind": "event"},
        {"trace_id": "other"},
    ]

    def append() -> None:
        with files[0].open("a") as log:
            log.write(json.dumps(later.pop(0)) + "\n" if later else "")

    belongs = OrderFilter(8)
    followed = follow_records(files, wait=append)
    seen = [next(followed) for _ in range(3)]
    assert [belongs(r) for r in seen] == [True, True, False]


def test_no_request_log_is_a_readable_error_and_a_bad_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="MICROSHOP_REQUEST_LOG"):
        log_files(RunPaths(tmp_path))
    with pytest.raises(ValueError, match="file, stderr or off"):
        open_request_log("syslog", tmp_path, "orders")
