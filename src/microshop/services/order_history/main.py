"""Composition root of the order history read model."""

from pathlib import Path

from fastapi import FastAPI

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.services.order_history.api import router
from microshop.services.order_history.handlers import HANDLERS, fold_into_views


class OrderHistorySettings(ServiceSettings):
    model_config = service_config("order_history")
    service_name: str = "order_history"


def build_app(settings: OrderHistorySettings | None = None) -> FastAPI:
    spec = ServiceSpec(
        "order_history",
        [router],
        Path(__file__).parent / "migrations",
        handlers=HANDLERS,
        apply_together=fold_into_views,
    )
    return create_app(spec, settings or OrderHistorySettings())
