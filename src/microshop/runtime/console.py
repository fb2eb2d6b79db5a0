"""What `microshop` prints: prefixed log lines, the process table, URLs, and the
operator tables (dead letters, unfinished sagas)."""

import sys
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from microshop.chassis.bus import DeadLetter
from microshop.gateway.routes import STOREFRONT
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

    def __init__(
        self, names: list[str], stream: TextIO | None = None, *, colour: bool = True
    ) -> None:
        self.stream = stream or sys.stdout
        self.width = max(len(name) for name in [*names, SUPERVISOR])
        use_colour = colour and self.stream.isatty()
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


def without_password(url: str) -> str:
    """amqp://guest:secret@host/ -> amqp://guest:***@host/, for what is printed."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


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


def instance_counts(state: RunState, health: dict[str, bool | None]) -> str:
    """`catalog 2/2, orders 1/2, ...`: healthy / running instances of each service."""
    counts: dict[str, list[int]] = {}
    for name, record in state.processes.items():
        if record.service:
            healthy_and_all = counts.setdefault(record.service, [0, 0])
            healthy_and_all[0] += bool(health.get(name))
            healthy_and_all[1] += 1
    return ", ".join(f"{s} {h}/{n}" for s, (h, n) in sorted(counts.items()))


def print_summary(
    console: Console, state: RunState, paths: RunPaths, *, admin_password_from_env: bool
) -> None:
    rows = [
        ("gateway", state.gateway_url),
        ("API docs", f"{state.gateway_url}/api/docs"),
        ("envoy admin", state.admin_url),
        ("broker", f"{without_password(state.broker_url or '-')} (prefix {state.bus_prefix})"),
    ]
    if not state.open_mode:
        password = (
            "from MICROSHOP_ADMIN_PASSWORD"
            if admin_password_from_env
            else f"in {paths.admin_password_file}"
        )
        rows.append(("admin login", f"admin@microshop.local, password {password}"))
    rows.append(("state", str(paths.state_file)))
    if any(record.service == STOREFRONT for record in state.processes.values()):
        rows.insert(0, ("storefront", f"{state.gateway_url}/"))
    for label, value in rows:
        console.print(f"  [bold]{label:<12}[/] {value}")
    if state.open_mode:
        console.print(f"[bold red]WARNING: {OPEN_MODE_WARNING}[/]")


def dead_letter_table(letters: Iterable[DeadLetter]) -> Table:
    table = Table(title="dead letters", title_justify="left")
    for column in ("id", "event id", "type", "consumer", "attempts", "error"):
        table.add_column(column)
    for letter in letters:
        cells = (letter.id, letter.event_id, letter.type, letter.consumer)
        # Error texts quote code and data: print them as they are, never as markup.
        table.add_row(*map(escape, cells), str(letter.attempts), escape(letter.error))
    return table


def saga_table(sagas: Iterable[dict[str, Any]]) -> Table:
    table = Table(title="unfinished sagas", title_justify="left")
    columns = ("order", "phase", "step", "outcome", "reason", "cancel", "lease", "updated")
    for column in columns:
        table.add_column(column)
    for saga in sagas:
        table.add_row(
            str(saga["order_id"]),
            saga["phase"],
            str(saga["position"]),
            saga.get("outcome") or "-",
            escape(saga.get("reason") or "-"),
            "yes" if saga.get("cancel_requested") else "no",
            saga.get("lease_owner") or "-",
            saga["updated_at"],
        )
    return table
