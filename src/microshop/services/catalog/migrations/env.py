from microshop.chassis.migrations import run_migrations
from microshop.services.catalog.models import metadata

run_migrations(metadata)
