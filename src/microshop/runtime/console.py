"""What `microshop up/status/down` print: prefixed log lines, the process table, URLs."""

import os
import sys
from typing import TextIO

from rich.console import Console
from rich.table import Table

from microshop.runtime.state import RunPaths, RunState

SUPERVISOR = "microshop"
GATEWAY = "gateway"
_COLOURS = ("36", "35", "32", "33", "34", "91", "96", "95", "92", "93")  # ANSI foregrounds
OPEN_MODE_WARNING = (
    "OPEN MODE: authentication is OFF and every caller is an admin. "
    "For tutorials only; never expose this system."
)


def stdout_console() -> Console:
    # soft_wrap: a long line stays one line in a log file or a pipe; and a table
    # written there is not squeezed into rich's default 80 columns.
    width = None if sys.stdout.isatty() else 160
    return Console(soft_wrap=True, highlight=False, width=width)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


class LogPrinter:
    """Writes each child's lines as `name     | line`, coloured per name on a terminal."""

    def __init__(self, names: list[str], stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.width = max(len(name) for name in [*names, SUPERVISOR])
        use_colour = self.stream.isatty() and "NO_COLOR" not in os.environ
        self._colours = {
            name: _COLOURS[i % len(_COLOURS)] if use_colour else ""
            for i, name in enumerate([SUPERVISOR, *names])
        }

    def line(self, name: str, text: str) -> None:
        prefix = f"{name:<{self.width}} |"
        colour = self._colours.get(name, "")
        if colour:
            prefix = f"\x1b[{colour}m{prefix}\x1b[0m"
        try:
            self.stream.write(f"{prefix} {text}\n")
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away; keep supervising
            pass

    def event(self, text: str) -> None:
        self.line(SUPERVISOR, text)


def _health_cell(health: bool | None) -> str:
    return {True: "[green]healthy[/]", False: "[red]unhealthy[/]", None: "[dim]-[/]"}[health]


def process_table(state: RunState, health: dict[str, bool | None], alive: dict[str, bool]) -> Table:
    table = Table(title=f"microshop ({state.data_dir})", title_justify="left")
    for column in ("process", "pid", "port", "alive", "health", "restarts", "url"):
        table.add_column(column)
    for name, record in state.processes.items():
        table.add_row(
            name,
            str(record.pid or "-"),
            str(record.port),
            "[green]yes[/]" if alive.get(name) else "[red]no[/]",
            _health_cell(health.get(name)),
            str(record.restarts),
            record.url,
        )
    return table


def print_summary(console: Console, state: RunState, paths: RunPaths) -> None:
    rows = [
        ("gateway", state.gateway_url),
        ("API docs", f"{state.gateway_url}/api/docs"),
        ("envoy admin", state.admin_url),
    ]
    if not state.open_mode:
        password = (
            "from MICROSHOP_ADMIN_PASSWORD"
            if os.environ.get("MICROSHOP_ADMIN_PASSWORD")
            else f"in {paths.admin_password_file}"
        )
        rows.append(("admin login", f"admin@microshop.local, password {password}"))
    rows.append(("state", str(paths.state_file)))
    for label, value in rows:
        console.print(f"  [bold]{label:<12}[/] {value}")
    if state.open_mode:
        console.print(f"[bold red]WARNING: {OPEN_MODE_WARNING}[/]")
