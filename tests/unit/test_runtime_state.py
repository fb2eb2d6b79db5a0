import json
from pathlib import Path

from microshop.runtime.state import (
    ProcessRecord,
    RunPaths,
    RunState,
    Status,
    read_pid,
    read_state,
    remove_run_files,
    write_pid,
    write_state,
)


def a_state() -> RunState:
    return RunState(
        supervisor_pid=1234,
        status=Status.READY,
        data_dir="/tmp/shop",
        gateway_url="http://127.0.0.1:8080",
        admin_url="http://127.0.0.1:8100",
        open_mode=False,
        processes={
            "catalog": ProcessRecord(
                pid=4321,
                port=8102,
                health_url="http://127.0.0.1:8102/health/ready",
                url="http://127.0.0.1:8080/api/products",
                restarts=2,
                started_at=1700000000.5,
            )
        },
    )


def test_the_state_file_reads_back_what_was_written(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    write_state(paths, a_state())
    assert read_state(paths) == a_state()
    assert paths.state_file == tmp_path / "run" / "state.json"


def test_a_missing_or_garbled_state_file_reads_as_no_state(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    assert read_state(paths) is None
    paths.run_dir.mkdir()
    paths.state_file.write_text("{not json")
    assert read_state(paths) is None


def test_the_pid_file_round_trips_and_is_removed_with_the_state(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    write_pid(paths, 999)
    write_state(paths, a_state())
    assert read_pid(paths) == 999
    remove_run_files(paths)
    assert read_pid(paths) is None
    assert read_state(paths) is None
    assert list(paths.run_dir.iterdir()) == []


def test_a_state_file_from_before_the_broker_was_recorded_still_reads(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    older = a_state().to_json()
    del older["broker_url"], older["bus_prefix"]
    paths.run_dir.mkdir(parents=True)
    paths.state_file.write_text(json.dumps(older))
    state = read_state(paths)
    assert state is not None
    assert (state.broker_url, state.bus_prefix) == (None, "microshop")
