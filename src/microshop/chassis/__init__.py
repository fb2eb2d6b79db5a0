"""The only code services share: app factory, settings, db, client, auth, errors.

The names below load on first use (PEP 562), so a light module of the chassis
(`chassis.bus` for the CLI, say) does not drag FastAPI and SQLAlchemy into a
process that never serves a request, such as the `microshop up` supervisor.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from microshop.chassis.app import ServiceSpec, create_app
    from microshop.chassis.settings import ServiceSettings, service_config

__all__ = ["ServiceSettings", "ServiceSpec", "create_app", "service_config"]

_HOMES = {
    "ServiceSpec": "microshop.chassis.app",
    "create_app": "microshop.chassis.app",
    "ServiceSettings": "microshop.chassis.settings",
    "service_config": "microshop.chassis.settings",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'microshop.chassis' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
