"""The app factory every service uses: a service adds only its own routes and rules.

    app = create_app(ServiceSpec("catalog", [router], MIGRATIONS, startup=[seed]), settings)

It gives liveness (`/health`), readiness (`/health/ready`, checks the database),
JSON errors for every failure, a request id in and out, a body-size limit,
structured logs, Alembic migrations applied on start, the service client and the
token verifier.
"""

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from microshop import __version__
from microshop.chassis.auth import JwksKeySource, KeySource, TokenVerifier
from microshop.chassis.client import ServiceClient, StaticDiscovery
from microshop.chassis.db import Database
from microshop.chassis.errors import error_response, install_error_handlers
from microshop.chassis.logging import configure_logging
from microshop.chassis.middleware import BodyLimitMiddleware, RequestIdMiddleware
from microshop.chassis.migrations import upgrade_to_head
from microshop.chassis.settings import ServiceSettings

log = structlog.get_logger()

StartupHook = Callable[[FastAPI], Awaitable[None]]


@dataclass
class ServiceSpec:
    name: str
    routers: Sequence[APIRouter]
    migrations: Path
    startup: Sequence[StartupHook] = field(default_factory=tuple)
    # Where this service finds the public keys of tokens; default: the users' JWKS.
    key_source: Callable[[FastAPI], KeySource] | None = None


def create_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level, settings.log_format)
        app.state.db = Database(
            settings.resolved_database_url(), sqlite_synchronous=settings.sqlite_synchronous
        )
        app.state.client = ServiceClient(StaticDiscovery(settings.peers), settings.http_timeout)
        keys = spec.key_source(app) if spec.key_source else JwksKeySource(app.state.client)
        app.state.verifier = TokenVerifier(keys)
        try:
            await upgrade_to_head(app.state.db, spec.migrations)
            for hook in spec.startup:
                await hook(app)
            if settings.open_mode:
                log.warning("OPEN MODE: authentication is OFF, every caller is an admin")
            log.info("service started", version=__version__, pid=os.getpid())
            yield
        finally:
            await app.state.client.close()
            await app.state.db.close()

    app = FastAPI(
        title=f"microshop {spec.name}",
        version=__version__,
        lifespan=lifespan,
        servers=[{"url": "/api", "description": "through the gateway"}],
    )
    app.state.settings = settings
    app.state.service = spec.name
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(_health_router(spec.name))
    for router in spec.routers:
        app.include_router(router)
    return app


def _health_router(service: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health")
    async def liveness() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/health/ready", response_model=None)
    async def readiness(request: Request) -> dict[str, str] | JSONResponse:
        try:
            await request.app.state.db.ping()
        except Exception as exc:
            log.warning("readiness check failed", error=repr(exc))
            return error_response(503, "database unavailable", service=service)
        return {"status": "ok", "service": service, "database": "ok"}

    return router
