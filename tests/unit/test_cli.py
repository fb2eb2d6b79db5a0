"""The `microshop` command: every command group and option, and the commands that
need no running system."""

import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner, Result

from microshop.cli import app
from microshop.cli.common import this_command
from microshop.runtime.state import RunPaths
from microshop.tools.settingsdocs import render

# Every command with its options, as the README and the tests use them.
COMMANDS = {
    ("serve",): {"--port", "--host"},
    ("up",): {
        "--open",
        "--detach",
        "--data-dir",
        "--port",
        "--service-port-base",
        "--broker",
        "--replicas",
    },
    ("down",): {"--data-dir"},
    ("status",): {"--data-dir"},
    ("logs",): {"--data-dir", "--lines", "--follow", "--order"},
    ("trace",): {"--data-dir"},
    ("gateway", "config"): {"--port", "--service-port-base"},
    ("events", "dead-letters"): {"--data-dir", "--broker"},
    ("events", "replay-dead-letters"): {"--id", "--data-dir", "--broker"},
    ("events", "docs"): set(),
    ("saga", "list"): {"--stuck", "--data-dir"},
    ("deploy", "write"): {"--to"},
    ("settings", "docs"): set(),
    ("bench",): {"--scenario", "--concurrency", "--url", "--data-dir"},
    ("bench", "compare"): set(),
    ("services",): {"--json", "--data-dir"},
    ("scale",): {"--data-dir"},
    ("chaos", "kill"): {"--data-dir"},
    ("chaos", "stop"): {"--data-dir"},
    ("chaos", "start"): {"--data-dir"},
    ("chaos", "pause"): {"--for", "--data-dir"},
    ("chaos", "delay"): {"--data-dir"},
    ("chaos", "fail"): {"--data-dir"},
    ("chaos", "heal"): {"--data-dir"},
}


def command(path: tuple[str, ...]) -> TyperCommand | TyperGroup:
    found = typer.main.get_command(app)
    for name in path:
        assert isinstance(found, TyperGroup), path
        found = found.commands[name]
    assert isinstance(found, TyperCommand | TyperGroup), path
    return found


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("path", list(COMMANDS))
def test_every_command_keeps_its_options(path: tuple[str, ...]) -> None:
    options = {opt for param in command(path).params for opt in param.opts if opt.startswith("--")}
    assert COMMANDS[path] <= options


def test_the_command_groups_are_the_documented_ones() -> None:
    top = command(())
    assert isinstance(top, TyperGroup)
    assert set(top.commands) == {path[0] for path in COMMANDS}


def test_settings_docs_prints_the_generated_settings_table() -> None:
    result = run("settings", "docs")
    assert result.exit_code == 0
    assert result.stdout == render()


def test_up_refuses_a_rate_limit_that_does_not_parse_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSHOP_RATE_LIMIT", "fast")
    result = run("up", "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 1
    assert "MICROSHOP_RATE_LIMIT: rate limit 'fast' is not like '10/s:20'" in result.stderr
    assert not (tmp_path / "data").exists()


def test_up_takes_its_broker_from_the_environment_without_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSHOP_BROKER_URL", "kafka://127.0.0.1:9092")
    result = run("up", "--detach", "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 1
    assert "unsupported broker URL 'kafka://127.0.0.1:9092'" in result.stderr


def test_logs_without_a_detached_system_says_where_a_foreground_one_logs(tmp_path: Path) -> None:
    result = run("logs", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "only `microshop up --detach` writes one" in result.stderr


def test_logs_prints_the_last_lines_of_the_log(tmp_path: Path) -> None:
    log = RunPaths(tmp_path).log_file
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    result = run("logs", "--data-dir", str(tmp_path), "--lines", "3")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["line 97", "line 98", "line 99"]


def test_hints_name_the_program_by_its_path_unless_the_path_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = tmp_path / "bin" / "microshop"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(program)])
    monkeypatch.setenv("PATH", "/nowhere")
    assert this_command() == str(program)
    monkeypatch.setenv("PATH", str(program.parent))
    assert this_command() == "microshop"
