from microshop.chassis.migrations import run_migrations
from microshop.services.catalog.models import CatalogBase

run_migrations(CatalogBase.metadata)
