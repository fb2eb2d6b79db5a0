import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from microshop.chassis.bus import DeadLetter
from microshop.cli import app
from microshop.runtime.console import dead_letter_table, saga_table, without_password
from microshop.runtime.errors import StartupError
from microshop.runtime.operator import find_broker
from microshop.runtime.reach import service_url
from microshop.runtime.settings import RuntimeSettings
from microshop.runtime.state import ProcessRecord, RunPaths, RunState, Status, write_state
from microshop.tools.eventdocs import render


def a_running_system(paths: RunPaths, broker_url: str, bus_prefix: str) -> None:
    orders = ProcessRecord(pid=1, port=8103, health_url="", url="")
    state = RunState(
        supervisor_pid=1,
        status=Status.READY,
        data_dir=str(paths.data_dir),
        gateway_url="http://127.0.0.1:8080",
        admin_url="http://127.0.0.1:8100",
        open_mode=False,
        processes={"orders": orders},
        broker_url=broker_url,
        bus_prefix=bus_prefix,
    )
    write_state(paths, state)


@pytest.fixture(autouse=True)
def no_broker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROSHOP_BROKER_URL", raising=False)
    monkeypatch.delenv("MICROSHOP_BUS_PREFIX", raising=False)


def test_the_broker_comes_from_the_running_systems_state(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    a_running_system(paths, "nats://127.0.0.1:8150", "shop_a")
    target = find_broker(paths, None, RuntimeSettings())
    assert (target.url, target.prefix) == ("nats://127.0.0.1:8150", "shop_a")


def test_the_broker_option_wins_over_the_environment_and_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = RunPaths(tmp_path)
    a_running_system(paths, "nats://127.0.0.1:8150", "shop_a")
    monkeypatch.setenv("MICROSHOP_BROKER_URL", "nats://127.0.0.1:4222")
    assert find_broker(paths, None, RuntimeSettings()).url == "nats://127.0.0.1:4222"
    assert (
        find_broker(paths, "amqp://127.0.0.1:5672/", RuntimeSettings()).url
        == "amqp://127.0.0.1:5672/"
    )


def test_the_bus_prefix_from_the_environment_wins_over_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = RunPaths(tmp_path)
    a_running_system(paths, "nats://127.0.0.1:8150", "shop_a")
    monkeypatch.setenv("MICROSHOP_BUS_PREFIX", "shop_b")
    assert find_broker(paths, None, RuntimeSettings()).prefix == "shop_b"


def test_without_a_running_system_or_a_broker_the_command_says_what_to_pass(
    tmp_path: Path,
) -> None:
    with pytest.raises(StartupError, match="pass --broker"):
        find_broker(RunPaths(tmp_path), None, RuntimeSettings())
    target = find_broker(RunPaths(tmp_path), "nats://127.0.0.1:4222", RuntimeSettings())
    assert target.prefix == "microshop"


def test_the_orders_service_is_found_through_the_state_file(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    with pytest.raises(StartupError, match="not running"):
        service_url(paths, "orders")
    a_running_system(paths, "nats://127.0.0.1:8150", "microshop")
    assert service_url(paths, "orders") == "http://127.0.0.1:8103"
    with pytest.raises(StartupError, match="no ops service"):
        service_url(paths, "ops")


def test_a_password_in_a_broker_url_is_never_printed() -> None:
    assert without_password("amqp://guest:s3cret@127.0.0.1:5672/") == (
        "amqp://guest:***@127.0.0.1:5672/"
    )
    assert without_password("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


def rendered(table: object) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(table)
    return out.getvalue()


def test_a_dead_letters_error_is_printed_as_it_is_not_as_markup() -> None:
    letter = DeadLetter(
        id="7",
        event_id="e-1",
        type="order.created",
        consumer="notifications",
        error="KeyError: '[bold]x'",
        attempts=5,
        body=b"{}",
    )
    text = rendered(dead_letter_table([letter]))
    assert "KeyError: '[bold]x'" in text
    assert "notifications" in text and "order.created" in text


def test_an_unfinished_saga_shows_its_order_phase_and_step() -> None:
    saga = {
        "order_id": 42,
        "phase": "forward",
        "position": 2,
        "outcome": None,
        "reason": None,
        "cancel_requested": True,
        "lease_owner": "orders-1",
        "updated_at": "2026-01-01T00:00:00+00:00",
    }
    row = next(line for line in rendered(saga_table([saga])).splitlines() if "42" in line)
    assert "forward" in row and "orders-1" in row and "yes" in row


def test_events_docs_prints_the_generated_event_catalogue() -> None:
    result = CliRunner().invoke(app, ["events", "docs"])
    assert result.exit_code == 0
    assert result.stdout == render()


def test_the_operator_commands_fail_in_one_line_when_nothing_runs(tmp_path: Path) -> None:
    for command in (["events", "dead-letters"], ["saga", "list"]):
        result = CliRunner().invoke(app, [*command, "--data-dir", str(tmp_path)])
        assert result.exit_code == 1
        assert "not running with data dir" in result.stderr
