from microshop.chassis.migrations import run_migrations
from microshop.services.notifications.models import NotificationsBase

run_migrations(NotificationsBase.metadata)
