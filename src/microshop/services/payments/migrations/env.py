from microshop.chassis.migrations import run_migrations
from microshop.services.payments.models import PaymentsBase

run_migrations(PaymentsBase.metadata)
