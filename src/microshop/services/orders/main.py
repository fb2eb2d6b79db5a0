"""Composition root of the orders service."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.services.orders.api import lean, router
from microshop.services.orders.internal_api import internal
from microshop.services.orders.orchestrator import Orchestrator


class OrdersSettings(ServiceSettings):
    model_config = service_config("orders")
    service_name: str = "orders"
    # Attempts of a saga step that gets no answer before its outcome counts as unknown.
    saga_step_attempts: int = 3
    # How long one run keeps retrying a compensation before leaving it to the sweeper.
    saga_compensation_deadline: float = 300.0
    saga_sweep_every: float = 5.0
    # A saga's lease (see orchestrator): how soon a crashed replica's sagas resume.
    saga_lease_seconds: float = Field(30.0, gt=0)


async def start_orchestrator(app: FastAPI) -> None:
    settings: OrdersSettings = app.state.settings
    app.state.orchestrator = Orchestrator(
        app.state.db,
        app.state.client,
        step_attempts=settings.saga_step_attempts,
        compensation_deadline=settings.saga_compensation_deadline,
        lease=timedelta(seconds=settings.saga_lease_seconds),
    )
    # The sweeper's first pass resumes every saga a previous process left unfinished.
    app.state.orchestrator.start(sweep_every=settings.saga_sweep_every)


async def stop_orchestrator(app: FastAPI) -> None:
    if orchestrator := getattr(app.state, "orchestrator", None):
        await orchestrator.stop()


def build_app(settings: OrdersSettings | None = None) -> FastAPI:
    spec = ServiceSpec(
        "orders",
        [router],
        Path(__file__).parent / "migrations",
        lean=[internal, lean],
        startup=[start_orchestrator],
        shutdown=[stop_orchestrator],
    )
    return create_app(spec, settings or OrdersSettings())
