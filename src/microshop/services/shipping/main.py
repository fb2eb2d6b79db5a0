"""Composition root of the shipping service."""

from pathlib import Path

from fastapi import FastAPI

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.services.shipping.api import router
from microshop.services.shipping.internal_api import internal


class ShippingSettings(ServiceSettings):
    model_config = service_config("shipping")
    service_name: str = "shipping"
    # Refuse every new shipment (MICROSHOP_SHIPPING_REFUSE_ALL), to watch the order
    # saga compensate: refund the payment, restore the stock, reject the order.
    refuse_all: bool = False


def build_app(settings: ShippingSettings | None = None) -> FastAPI:
    spec = ServiceSpec("shipping", [router], Path(__file__).parent / "migrations", lean=[internal])
    return create_app(spec, settings or ShippingSettings())
