from microshop.chassis.migrations import run_migrations
from microshop.services.users.models import UsersBase

run_migrations(UsersBase.metadata)
