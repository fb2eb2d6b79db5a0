from microshop.chassis.migrations import run_migrations
from microshop.services.orders.models import metadata

run_migrations(metadata)
