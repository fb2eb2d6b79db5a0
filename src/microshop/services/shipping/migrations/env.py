from microshop.chassis.migrations import run_migrations
from microshop.services.shipping.models import metadata

run_migrations(metadata)
