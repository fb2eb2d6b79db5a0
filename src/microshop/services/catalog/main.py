"""Composition root of the catalog service."""

from pathlib import Path

from fastapi import FastAPI

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.services.catalog import service
from microshop.services.catalog.api import cacheable, lean, router
from microshop.services.catalog.internal_api import internal
from microshop.services.catalog.listing import ListingCache


class CatalogSettings(ServiceSettings):
    model_config = service_config("catalog")
    service_name: str = "catalog"
    # How long the rendered product list is served from memory (0: never; listing.py).
    list_max_age_seconds: float = 1.0


async def seed(app: FastAPI) -> None:
    app.state.listing = ListingCache(app.state.settings.list_max_age_seconds)
    await service.seed_starter_products(app.state.db)


def build_app(settings: CatalogSettings | None = None) -> FastAPI:
    spec = ServiceSpec(
        "catalog",
        [router],
        Path(__file__).parent / "migrations",
        startup=[seed],
        lean=[internal, lean, cacheable],
    )
    return create_app(spec, settings or CatalogSettings())
