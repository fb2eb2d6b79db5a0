"""`microshop serve <service>`: one service in this process, as a container runs it."""

import asyncio
import importlib
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from microshop.chassis.app import ServiceApp
from microshop.chassis.data import open_database
from microshop.chassis.migrations import upgrade_to_head
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


async def _upgrade(url: str, migrations: Path) -> None:
    db = await open_database(url)
    try:
        await upgrade_to_head(db, migrations)
    finally:
        await db.close()


def migrate_apart(service: str, url: str, migrations: Path) -> None:
    """Brings the database to the newest revision in a child process that then exits.

    Migrating imports Alembic and Mako and builds SQLAlchemy's DDL machinery: about
    15 MiB that a service which migrated in its own process kept for its whole life
    (freed objects leave their memory arenas fragmented, and touching the zygote's
    shared pages copies them), in each of the nine services of a fresh system. A
    child forked here (no thread and no event loop running yet) takes all of that
    with it; the service's own start then finds the database current, which it checks
    with one query through the data port."""
    if threading.active_count() > 1:
        return  # a fork could copy a lock another thread holds: the start migrates itself
    pid = os.fork()
    if pid == 0:  # the child: migrate, say why not, and leave without cleaning up
        code = 0
        try:
            asyncio.run(_upgrade(url, migrations))
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise StartupError(f"{service}: migrating its database failed (the error is above)")


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
    migrate_apart(service, settings.resolved_database_url(), app.state.migrations)
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
