from microshop.chassis.migrations import run_migrations
from microshop.services.order_history.models import OrderHistoryBase

run_migrations(OrderHistoryBase.metadata)
