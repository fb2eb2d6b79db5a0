from microshop.chassis.migrations import run_migrations
from microshop.services.orders.models import OrdersBase

run_migrations(OrdersBase.metadata)
