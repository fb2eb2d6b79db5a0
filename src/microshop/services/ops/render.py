"""HTML pages from Jinja2 templates, every value escaped (autoescape on).

Jinja2 is imported with the first page, not at start: `microshop up` waits for
every service, and the console is opened long after."""

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from microshop import __version__
from microshop.services.ops.session import csrf_token, set_cookies

TEMPLATES = Path(__file__).parent / "templates"

if TYPE_CHECKING:
    import jinja2


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@cache
def _env() -> "jinja2.Environment":
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["age"] = _age
    return env


def fragment(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = (
        _env().get_template(name).render(csrf=csrf_token(request), version=__version__, **context)
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return set_cookies(request, response)  # type: ignore[return-value]


def problem(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """An error as a sentence on a page, never a stack trace or raw JSON."""
    return page(request, "problem.html", status, title=title, message=message)
