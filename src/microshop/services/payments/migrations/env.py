from microshop.chassis.migrations import run_migrations
from microshop.services.payments.models import metadata

run_migrations(metadata)
