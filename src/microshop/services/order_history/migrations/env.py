from microshop.chassis.migrations import run_migrations
from microshop.services.order_history.models import metadata

run_migrations(metadata)
