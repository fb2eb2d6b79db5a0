from microshop.chassis.migrations import run_migrations
from microshop.services.ops.models import metadata

run_migrations(metadata)
