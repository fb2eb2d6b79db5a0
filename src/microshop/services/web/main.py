"""Composition root of the storefront: server-rendered pages over the other
services' public APIs, and their static files."""

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.services.web import (
    pages_account,
    pages_cart,
    pages_catalog,
    pages_orders,
)
from microshop.services.web.csrf import CsrfGuard
from microshop.services.web.errors import install_page_errors

HERE = Path(__file__).parent
PAGES = (pages_catalog.router, pages_cart.router, pages_orders.router, pages_account.router)


class WebSettings(ServiceSettings):
    model_config = service_config("web")
    service_name: str = "web"
    # Products (and orders) on one page of a list.
    page_size: int = Field(12, ge=1, le=50)
    # Send the cookies over HTTPS only: set it where TLS ends in front of the gateway.
    cookie_secure: bool = False


class Assets(StaticFiles):
    """The pages name their CSS and script with the version (`?v=0.1.0`), so a
    browser may keep them a day without asking again."""

    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


async def _prepare(app: FastAPI) -> None:
    app.state.csrf = CsrfGuard(app.state.service_credential.key)


def build_app(settings: WebSettings | None = None) -> FastAPI:
    spec = ServiceSpec(
        "web",
        PAGES,
        HERE / "migrations",
        startup=[_prepare],
    )
    app = create_app(spec, settings or WebSettings())
    install_page_errors(app)
    app.mount("/static", Assets(directory=HERE / "static"), name="static")
    return app
