"""Composition root of the payments service."""

from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.services.payments.api import router
from microshop.services.payments.domain import DEFAULT_MAX_AMOUNT
from microshop.services.payments.internal_api import internal


class PaymentsSettings(ServiceSettings):
    model_config = service_config("payments")
    service_name: str = "payments"
    # The simulated processor declines any single charge above this (MICROSHOP_PAYMENTS_MAX_AMOUNT).
    max_amount: Decimal = Field(DEFAULT_MAX_AMOUNT, gt=0)


def build_app(settings: PaymentsSettings | None = None) -> FastAPI:
    spec = ServiceSpec("payments", [router], Path(__file__).parent / "migrations", lean=[internal])
    return create_app(spec, settings or PaymentsSettings())
