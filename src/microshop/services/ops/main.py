"""Composition root of the ops service: the console at /ops and the trace keeper."""

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.chassis.tracing import Tracer
from microshop.services.ops import actions, api, pages
from microshop.services.ops.fleet import Fleet
from microshop.services.ops.receiver import receiver


class OpsSettings(ServiceSettings):
    model_config = service_config("ops")
    service_name: str = "ops"
    # The last traces kept (their spans), the oldest dropped first.
    traces_kept: int = Field(500, ge=1, le=100_000)
    # The supervisor's control API (`microshop up` sets it): chaos stop and start.
    control_url: str | None = None
    # The console's own requests (its live updates poll every instance) are not
    # what the last traces are kept for: it records no span of its own by default
    # (MICROSHOP_OPS_TRACE_CONSOLE=1 to see them). Trace context still travels.
    trace_console: bool = False


async def start_fleet(app: FastAPI) -> None:
    settings: OpsSettings = app.state.settings
    if not settings.trace_console:
        app.telemetry.tracer = Tracer("ops", enabled=False)  # type: ignore[attr-defined]
        app.state.client.tracer = app.telemetry.tracer  # type: ignore[attr-defined]
    app.state.fleet = Fleet(
        app.state.presence.registry,
        app.state.service_credential,
        settings.control_url,
        settings.peers,
    )


async def stop_fleet(app: FastAPI) -> None:
    if fleet := getattr(app.state, "fleet", None):
        await fleet.close()


def build_app(settings: OpsSettings | None = None) -> FastAPI:
    spec = ServiceSpec(
        "ops",
        [pages.router, actions.router, api.router],
        Path(__file__).parent / "migrations",
        startup=[start_fleet],
        shutdown=[stop_fleet],
        lean=[receiver],
    )
    return create_app(spec, settings or OpsSettings())
