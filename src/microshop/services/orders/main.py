"""Composition root of the orders service."""

from pathlib import Path

from fastapi import FastAPI

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.services.orders.api import router


class OrdersSettings(ServiceSettings):
    model_config = service_config("orders")
    service_name: str = "orders"


def build_app(settings: OrdersSettings | None = None) -> FastAPI:
    spec = ServiceSpec("orders", [router], Path(__file__).parent / "migrations")
    return create_app(spec, settings or OrdersSettings())
