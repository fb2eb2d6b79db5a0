from microshop.chassis.migrations import run_migrations
from microshop.services.notifications.models import metadata

run_migrations(metadata)
