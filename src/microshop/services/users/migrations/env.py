from microshop.chassis.migrations import run_migrations
from microshop.services.users.models import metadata

run_migrations(metadata)
