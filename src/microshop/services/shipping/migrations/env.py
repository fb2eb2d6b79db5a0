from microshop.chassis.migrations import run_migrations
from microshop.services.shipping.models import ShippingBase

run_migrations(ShippingBase.metadata)
