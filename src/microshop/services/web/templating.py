"""The pages' Jinja2 environment: every value is HTML-escaped unless a template
says otherwise (none does), so a product or a customer named
`<script>alert(1)</script>` is shown as that text, never run.

Templates are compiled on first use and kept (no reloading, no file checks per
request); a missing variable is an error in the tests, not a blank on the page.
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microshop import __version__

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
CENT = Decimal("0.01")


def money(value: Any) -> str:
    """999.99 as `999.99`, 2 as `2.00`: from the API's JSON number, never float math."""
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return "-"
    return f"{amount:,}"


def when(value: Any) -> str:
    """An API timestamp as a reader writes it: `2025-06-01 14:05 UTC`."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def clock(value: Any) -> str:
    """A step's time of day, to the second: a saga's steps are seconds apart."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime("%H:%M:%S")
    except ValueError:
        return ""


def words(value: Any) -> str:
    """An API code as words: `out_of_stock` -> `out of stock`."""
    return str(value or "").replace("_", " ")


def _environment() -> "Environment":
    # Imported on the first page, not at start: `microshop up` waits for no template.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, when=when, clock=clock, words=words)
    env.globals["version"] = __version__
    return env


_env: "Environment | None" = None


def render(template: str, **context: Any) -> str:
    global _env
    if _env is None:
        _env = _environment()
    return _env.get_template(template).render(**context)
