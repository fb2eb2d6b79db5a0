from sqlalchemy import MetaData

from microshop.chassis.migrations import run_migrations

run_migrations(MetaData())
