"""`microshop serve <service>`: one service in this process, as a container runs it."""

import asyncio
import importlib
import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from microshop.chassis.app import ServiceApp
from microshop.chassis.data import open_database
from microshop.runtime.checks import check_data_dir
from microshop.runtime.errors import StartupError
from microshop.services import APPS

__all__ = ["StartupError", "app_factory", "check_data_dir", "serve"]


def app_factory(service: str) -> Callable[[], FastAPI]:
    try:
        module_name, _, attr = APPS[service].partition(":")
    except KeyError:
        raise StartupError(f"unknown service {service!r} (known: {', '.join(APPS)})") from None
    return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]


async def _ping(url: str) -> None:
    db = await asyncio.wait_for(open_database(url), timeout=10)
    try:
        await asyncio.wait_for(db.ping(), timeout=10)
    finally:
        await db.close()


def check_database(service: str, url: str) -> None:
    try:
        asyncio.run(_ping(url))
    except Exception as exc:
        shown = url.split("@")[-1] if "@" in url else url
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StartupError(f"{service}: database {shown} is unreachable: {reason}") from None


def serve(service: str, host: str, port: int) -> None:
    app = app_factory(service)()
    settings = app.state.settings
    # Registered where it listens unless told otherwise (a container's host name).
    if settings.advertise_port is None:
        settings.advertise_port = port
    if settings.advertise_host is None and host not in ("0.0.0.0", "::"):
        settings.advertise_host = host
    check_data_dir(settings.data_dir)
    check_database(service, settings.resolved_database_url())
    uvicorn.run(
        app.entry if isinstance(app, ServiceApp) else app,
        interface="asgi3",  # a bound method: uvicorn's own guess takes it for ASGI 2
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        # The gateway's X-Forwarded-For is read where it matters; rewriting the
        # client address on every request costs and serves nothing here.
        proxy_headers=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    sys.exit(0)
