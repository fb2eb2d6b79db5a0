"""The only code services share: app factory, settings, db, client, auth, errors."""

from microshop.chassis.app import ServiceSpec, create_app
from microshop.chassis.settings import ServiceSettings, service_config

__all__ = ["ServiceSettings", "ServiceSpec", "create_app", "service_config"]
