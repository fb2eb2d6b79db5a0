"""Every environment variable is read by a settings class, and docs/settings.md,
generated from those classes, lists each one."""

import ast
from pathlib import Path

import pytest

from microshop.gateway.ratelimit import InvalidRateLimit, RateLimit
from microshop.runtime.settings import RuntimeSettings
from microshop.tools.settingsdocs import DESCRIPTIONS, SERVICE_PLACEHOLDER, render, variables

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "settings.md"
SOURCES = ROOT / "src" / "microshop"
SETTINGS_MODULES = {"runtime/settings.py", "chassis/settings.py"}
# Modules still reading os.environ themselves (none: keep it that way).
NOT_YET_MOVED: set[str] = set()
# Not settings of microshop's: the PATH it extends for a child process.
CHILD_ENVIRONMENT = {"PATH"}


def test_the_checked_in_settings_table_matches_the_code() -> None:
    assert DOC.read_text() == render(), "run: microshop settings docs > docs/settings.md"


def test_every_variable_has_a_default_a_reader_and_a_description() -> None:
    for variable in variables():
        assert variable.name.isupper(), variable
        assert variable.default and variable.read_by, variable
        assert variable.description, f"{variable.name}: describe it in tools/settingsdocs.py"


def test_every_description_kept_in_the_tool_describes_a_variable_still_read() -> None:
    names = {variable.name for variable in variables()}
    for described in DESCRIPTIONS:
        before, placeholder, after = described.partition(SERVICE_PLACEHOLDER)
        read = (
            any(name.startswith(before) and name.endswith(after) for name in names)
            if placeholder
            else described in names
        )
        assert read, f"{described} is described but no settings class reads it"


def test_the_runtime_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSHOP_RATE_LIMIT", "5/m:7")
    monkeypatch.setenv("MICROSHOP_BROKER_URL", "amqp://127.0.0.1:5672/")
    monkeypatch.setenv("NO_COLOR", "1")
    settings = RuntimeSettings()
    assert settings.gateway_rate_limit() == RateLimit(5, 60, 7)
    assert settings.broker_url == "amqp://127.0.0.1:5672/"
    assert not settings.colour


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSHOP_BUS_PREFIX", "")
    monkeypatch.setenv("MICROSHOP_ADMIN_PASSWORD", "")
    settings = RuntimeSettings()
    assert settings.bus_prefix is None
    assert not settings.admin_password_from_env


def test_a_rate_limit_that_does_not_parse_is_refused_when_it_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MICROSHOP_RATE_LIMIT", "fast")
    with pytest.raises(InvalidRateLimit, match="'fast'"):
        RuntimeSettings().gateway_rate_limit()


def _environment_reads(tree: ast.AST) -> list[str]:
    """`os.environ` and `os.getenv` uses other than copying the whole environment for a
    child process (`dict(os.environ)`, `{**os.environ, ...}`) or replacing it with the
    one a child is given (`os.environ.clear()`, `.update(...)`), and typer's `envvar=`."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "envvar":
            reads.append(f"line {node.value.lineno}: envvar=")
        if not (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")):
            continue
        parent = parents[node]
        copied = (isinstance(parent, ast.Call) and parent.args == [node]) or (
            isinstance(parent, ast.Dict) and None in parent.keys
        )
        call = parents.get(parent)
        if isinstance(parent, ast.Attribute) and isinstance(call, ast.Call):
            first = call.args[0] if call.args else None
            copied = isinstance(first, ast.Constant) and first.value in CHILD_ENVIRONMENT
            copied = copied or parent.attr in ("clear", "update")
        if not copied:
            reads.append(f"line {node.lineno}: {ast.unparse(parent)}")
    return reads


def test_nothing_outside_the_settings_modules_reads_the_environment() -> None:
    offenders = {}
    for path in sorted(SOURCES.rglob("*.py")):
        module = path.relative_to(SOURCES).as_posix()
        if module in SETTINGS_MODULES:
            continue
        reads = _environment_reads(ast.parse(path.read_text()))
        if reads and module not in NOT_YET_MOVED:
            offenders[module] = reads
        if not reads and module in NOT_YET_MOVED:
            offenders[module] = ["reads nothing any more: remove it from NOT_YET_MOVED"]
    assert not offenders, offenders
