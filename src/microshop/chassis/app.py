"""The app factory every service uses: a service adds only its own routes and rules.

    app = create_app(ServiceSpec("catalog", [router], MIGRATIONS, startup=[seed]), settings)

It gives liveness (`/health`), readiness (`/health/ready`, checks the database),
JSON errors for every failure, a request id in and out, a body-size limit,
structured logs, Alembic migrations applied on start, the service client and the
token verifier.
"""

import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from microshop import __version__
from microshop.chassis import fault_routes, faults, lifecycle_routes, status_routes
from microshop.chassis.auth import JwksKeySource, KeySource, TokenVerifier
from microshop.chassis.client import Resilience, ServiceClient
from microshop.chassis.data import open_database
from microshop.chassis.errors import error_response, install_error_handlers
from microshop.chassis.events import EventWiring
from microshop.chassis.inbox import BatchHandler, EventHandler
from microshop.chassis.lean import LeanDispatch, LeanRoutes
from microshop.chassis.logging import configure_logging
from microshop.chassis.middleware import ServiceMiddleware
from microshop.chassis.migrations import upgrade_to_head
from microshop.chassis.presence import Presence
from microshop.chassis.service_auth import ServiceCredential, load_or_create_key
from microshop.chassis.settings import ServiceSettings
from microshop.chassis.telemetry import Telemetry
from microshop.contracts.events import Event

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
    # Run before the database closes, in order (stop background work here).
    shutdown: Sequence[StartupHook] = field(default_factory=tuple)
    # The events this service consumes: an explicit map, never discovered by scanning.
    handlers: Mapping[type[Event], EventHandler] = field(default_factory=dict)
    # A whole batch of events at once, without a savepoint per event (its contract:
    # chassis/inbox.py).
    apply_together: BatchHandler | None = None
    # Lean routes (chassis/lean.py): every /internal route, and hot public paths.
    lean: Sequence[LeanRoutes] = field(default_factory=tuple)


class ServiceApp(FastAPI):
    """FastAPI with two layers outside its own stack: the service middleware (request
    id, body limit, error boundary, injected faults) and the lean routes, which are
    answered without entering FastAPI's routing and middleware at all."""

    def __init__(self, lean: Sequence[LeanRoutes], max_body_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lean_routes = list(lean)
        self.max_body_bytes = max_body_bytes
        self.outermost: ServiceMiddleware | None = None
        # Configured by the lifespan; until then spans propagate and are dropped.
        self.telemetry = Telemetry()

    def build_middleware_stack(self) -> ASGIApp:
        fastapi_stack = super().build_middleware_stack()
        lean = LeanDispatch(fastapi_stack, self.lean_routes)
        self.outermost = ServiceMiddleware(lean, self.max_body_bytes, self.telemetry)
        return self.outermost

    def served(self) -> int:
        """Requests served so far (the registry shows it beside each instance)."""
        return self.outermost.served if self.outermost else 0

    async def entry(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What the server calls: HTTP straight into the outermost layer, skipping
        FastAPI's and Starlette's own `__call__` (FastAPI asks OpenTelemetry's API
        for its providers there on every request: 20-30 µs measured); the lifespan,
        which builds that layer, through them."""
        if scope["type"] == "http" and self.outermost is not None:
            scope["app"] = self  # what Starlette's __call__ would have set
            await self.outermost(scope, receive, send)
        else:
            await self(scope, receive, send)


def create_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: ServiceApp) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level, settings.log_format)
        faults.configure(settings.crash_at)
        app.state.db = await open_database(
            settings.resolved_database_url(),
            sqlite_synchronous=settings.sqlite_synchronous,
            pool_size=settings.database_pool_size,
        )
        secret = settings.service_key.get_secret_value() if settings.service_key else None
        app.state.service_credential = ServiceCredential(
            load_or_create_key(secret, settings.secrets_dir), spec.name
        )
        app.state.presence = Presence(settings, spec.name, served=app.served)
        app.state.client = ServiceClient(
            app.state.presence.discovery,
            Resilience(
                timeout=settings.http_timeout,
                retries=settings.http_retries,
                breaker_failures=settings.breaker_failures,
                breaker_reset=settings.breaker_reset_seconds,
                per_peer_connections=settings.http_connections_per_peer,
            ),
            credential=app.state.service_credential,
        )
        app.telemetry.configure(settings, spec.name, app.state.presence.discovery.endpoints)
        app.state.client.tracer = app.telemetry.tracer
        keys = spec.key_source(app) if spec.key_source else JwksKeySource(app.state.client)
        app.state.verifier = TokenVerifier(keys)
        app.state.events = None
        try:
            await upgrade_to_head(app.state.db, spec.migrations)
            for hook in spec.startup:
                await hook(app)
            if settings.broker_url:
                app.state.events = EventWiring(
                    spec.name,
                    app.state.db,
                    settings.broker_url,
                    settings.bus_prefix,
                    spec.handlers,
                    app,
                    replicas=settings.stream_replicas,
                    telemetry=app.telemetry,
                    apply_together=spec.apply_together,
                )
                app.state.events.start()
            elif spec.handlers:
                log.warning("no broker configured (MICROSHOP_BROKER_URL): consuming no events")
            if settings.open_mode:
                log.warning("OPEN MODE: authentication is OFF, every caller is an admin")
            await app.state.presence.start()
            log.info("service started", version=__version__, pid=os.getpid())
            quiet_collector()
            yield
        finally:
            # Out of the registry first: callers stop sending before we stop serving.
            await app.state.presence.stop()
            for hook in spec.shutdown:
                await hook(app)
            if app.state.events is not None:
                await app.state.events.stop()
            await app.state.client.close()
            await app.telemetry.close()
            await app.state.db.close()

    app = ServiceApp(
        [fault_routes.routes, lifecycle_routes.routes, status_routes.routes, *spec.lean],
        settings.max_body_bytes,
        title=f"microshop {spec.name}",
        version=__version__,
        lifespan=lifespan,
        servers=[{"url": "/api", "description": "through the gateway"}],
    )
    app.state.settings = settings
    app.state.service = spec.name
    app.state.migrations = spec.migrations
    install_error_handlers(app)
    app.include_router(_health_router(spec.name))
    for router in spec.routers:
        app.include_router(router)
    return app


def quiet_collector() -> None:
    """Everything loaded at start stays for the process's life: move it out of the
    cyclic collector's sight (gc.freeze), so that a full collection, which walked all
    of it, no longer stalls the event loop for tens of milliseconds under load; and
    collect the young generations less often (most of our garbage is freed by
    reference counting anyway)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def _health_router(service: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health")
    async def liveness() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/health/ready", response_model=None)
    async def readiness(request: Request) -> dict[str, str] | Response:
        if request.app.state.presence.draining:
            return error_response(503, "draining: this instance is being stopped", service=service)
        try:
            await request.app.state.db.ping()
        except Exception as exc:
            log.warning("readiness check failed", error=repr(exc))
            return error_response(503, "database unavailable", service=service)
        # A broker that is away does not make the service unready: writes still
        # succeed and their events wait in the outbox.
        events = request.app.state.events
        broker = "none" if events is None else ("ok" if events.connected else "connecting")
        return {"status": "ok", "service": service, "database": "ok", "broker": broker}

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
