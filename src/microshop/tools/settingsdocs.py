"""docs/settings.md, generated from the settings classes: every environment variable
microshop reads, its default, which process reads it and what it does.
`microshop settings docs > docs/settings.md` writes it; a test fails when it is stale.

A field's `description` says what it does; fields of the classes that carry none yet
(the chassis' and the services') are described in DESCRIPTIONS below, by variable.
"""

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from microshop.chassis.settings import ServiceSettings
from microshop.runtime.settings import READ_BY, RuntimeSettings
from microshop.services import APPS

EVERY_SERVICE = "every service"
# A service's own variables say `<SERVICE>` where its name goes.
SERVICE_PLACEHOLDER = "<SERVICE>"
# Set by the class itself, never configured: `MICROSHOP_USERS_SERVICE_NAME` would
# only rename the service's logs and database file.
NOT_SETTINGS = frozenset({"service_name"})

DESCRIPTIONS = {
    "MICROSHOP_<SERVICE>_DATABASE_URL": (
        "The {service} service's database: `postgresql+asyncpg://…`, `mysql+asyncmy://…` "
        "or `sqlite:///…`. Unset: the SQLite file `<data dir>/data/{service}.db`."
    ),
    "MICROSHOP_DATA_DIR": (
        "Where databases, keys, e-mails and logs live; `microshop up` sets it from `--data-dir`."
    ),
    "MICROSHOP_OPEN": (
        "Authentication off, every caller an admin (tutorials only); "
        "`microshop up` sets it from `--open`."
    ),
    "MICROSHOP_PEERS": (
        "JSON map of service name to base URL (or a list of them), how a service finds "
        "the others, and where it looks when the registry lists none; `microshop up` sets it."
    ),
    "MICROSHOP_LOG_FORMAT": "`console` (readable lines) or `json` (one object a line).",
    "MICROSHOP_LOG_LEVEL": "`debug`, `info`, `warning` or `error`.",
    "MICROSHOP_HTTP_TIMEOUT": "Seconds every service-to-service call may take.",
    "MICROSHOP_HTTP_RETRIES": "Retries of an idempotent service-to-service call (jittered backoff).",
    "MICROSHOP_BREAKER_FAILURES": "Failures in a row that open the circuit breaker of a peer.",
    "MICROSHOP_BREAKER_RESET_SECONDS": "Seconds an open breaker waits before it lets a call try.",
    "MICROSHOP_HTTP_CONNECTIONS_PER_PEER": "Connections a service keeps open to each peer at most.",
    "MICROSHOP_SQLITE_SYNCHRONOUS": (
        "SQLite's `synchronous` pragma: `FULL` survives power loss too (docs/decisions.md)."
    ),
    "MICROSHOP_DATABASE_POOL_SIZE": (
        "Connections an instance keeps to its PostgreSQL or MariaDB server, at most."
    ),
    "MICROSHOP_MAX_BODY_BYTES": "The largest request body a service accepts (413 above it).",
    "MICROSHOP_BROKER_URL": (
        "The broker: `nats://…` (JetStream) or `amqp://…` (RabbitMQ); "
        "`microshop up` sets it. Unset: no events are published or consumed."
    ),
    "MICROSHOP_BUS_PREFIX": (
        "Prefix of the streams, subjects, exchanges and queues, to share a broker; "
        "`microshop up` sets it."
    ),
    "MICROSHOP_STREAM_REPLICAS": "How many NATS servers keep each stream (3 in a cluster).",
    "MICROSHOP_SERVICE_KEY": (
        "The key /internal calls between services are signed with. "
        "Unset: `<data dir>/secrets/service-key`, made by the first service to start."
    ),
    "MICROSHOP_REGISTRY_URL": (
        "Where instances register and find each other: `nats://…` (a JetStream "
        "key-value bucket), `consul://host:port` or `static:` (MICROSHOP_PEERS, for "
        "Compose and Kubernetes DNS). Unset: the broker when it is NATS, else static."
    ),
    "MICROSHOP_TRACING": (
        "Record spans (chassis/tracing.py); off, trace ids still travel and are logged."
    ),
    "MICROSHOP_TRACE_SAMPLE_RATIO": (
        "Share of new traces recorded (0 to 1); a caller's sampled `traceparent` is always followed."
    ),
    "MICROSHOP_TRACE_SAMPLE_PER_SECOND": (
        "New traces recorded per second and process on top of the ratio (0: none): "
        "every order of a person clicking, a few of a load test."
    ),
    "MICROSHOP_OTLP_ENDPOINT": (
        "Base URL of an OTLP/HTTP collector (Jaeger, Tempo, …: `http://host:4318`). "
        "Unset: spans go to the ops service, which keeps the last traces for /ops."
    ),
    "MICROSHOP_REQUEST_LOG": (
        "One JSON line per request and event handled: `file` "
        "(`<data dir>/logs/<instance>.jsonl`, read by `microshop logs --order`), `stderr` or `off`."
    ),
    "MICROSHOP_INSTANCE_ID": (
        "This instance's id in the registry; `microshop up` names them orders-1, "
        "orders-2, … Unset: the service's name and a random suffix."
    ),
    "MICROSHOP_ADVERTISE_HOST": (
        "The address other instances reach this one at. Unset: `serve --host`, or "
        "the host name when it listens on every address (a container)."
    ),
    "MICROSHOP_ADVERTISE_PORT": (
        "The port other instances reach this one at. Unset: `serve --port`."
    ),
    "MICROSHOP_CRASH_AT": (
        "Fault injection, for tests: crash points (comma-separated) where the process "
        "kills itself (chassis/faults.py)."
    ),
    "MICROSHOP_CATALOG_LIST_MAX_AGE_SECONDS": (
        "How long the rendered product list is served from memory (0: never)."
    ),
    "MICROSHOP_SMTP_URL": (
        "`smtp://user:pass@host:25` to send e-mail. Unset: `.eml` files in the mail folder."
    ),
    "MICROSHOP_NOTIFICATIONS_MAIL_DIR": (
        "Where e-mails are written without SMTP. Unset: `<data dir>/mail`."
    ),
    "MICROSHOP_OPS_TRACES_KEPT": (
        "How many of the last traces the ops service keeps (their spans); the oldest go first."
    ),
    "MICROSHOP_OPS_TRACE_CONSOLE": (
        "Record the ops service's own spans (its console polls every instance); "
        "off by default, so the traces kept are the shop's."
    ),
    "MICROSHOP_OPS_CONTROL_URL": (
        "The supervisor's control API, for the console's stop and start buttons; "
        "`microshop up` sets it."
    ),
    "MICROSHOP_ORDERS_SAGA_STEP_ATTEMPTS": (
        "Attempts of a saga step that gets no answer before its outcome counts as unknown."
    ),
    "MICROSHOP_ORDERS_SAGA_COMPENSATION_DEADLINE": (
        "Seconds one run keeps retrying a compensation before leaving it to the sweeper."
    ),
    "MICROSHOP_ORDERS_SAGA_SWEEP_EVERY": "Seconds between two sweeps for unfinished sagas.",
    "MICROSHOP_ORDERS_SAGA_LEASE_SECONDS": (
        "A saga's lease: how soon a crashed replica's sagas are resumed by another."
    ),
    "MICROSHOP_PAYMENTS_MAX_AMOUNT": "The simulated card processor declines any charge above it.",
    "MICROSHOP_SHIPPING_REFUSE_ALL": (
        "Refuse every new shipment, to watch the order saga compensate "
        "(refund, restore the stock, reject the order)."
    ),
    "MICROSHOP_USERS_TOKEN_TTL_SECONDS": "How long a bearer token is valid (60 s to 7 days).",
    "MICROSHOP_WEB_COOKIE_SECURE": (
        "The storefront's cookies (session, cart, CSRF) travel over HTTPS only: "
        "set it where TLS ends in front of the gateway."
    ),
    "MICROSHOP_WEB_PAGE_SIZE": "Products, or orders, on one page of the storefront's lists.",
    "MICROSHOP_USERS_SIGNING_KEY_FILE": (
        "The key tokens are signed with (a mounted secret in Kubernetes). "
        "Unset: `<data dir>/secrets/jwt-signing-key.pem`, made on first start."
    ),
    "MICROSHOP_ADMIN_PASSWORD": (
        "The bootstrap admin's password (`admin@microshop.local`). "
        "Unset: a random one, printed once and kept in `<data dir>/secrets/admin-password`."
    ),
}

HEADER = """# Settings

Every environment variable microshop reads. Generated from the settings classes
(`microshop.runtime.settings` for the `microshop` command and the supervisor that
`microshop up` runs, `microshop.chassis.settings` for what every service shares,
each service's `main.py` for its own) by `microshop settings docs > docs/settings.md`;
a test fails when this file is stale.

`microshop up` starts every service with `MICROSHOP_DATA_DIR`, `MICROSHOP_OPEN`,
`MICROSHOP_PEERS`, `MICROSHOP_BROKER_URL` and `MICROSHOP_BUS_PREFIX` set from its own
options; every other variable reaches the services from the shell that runs `up`,
e.g. `MICROSHOP_RATE_LIMIT=off MICROSHOP_SHIPPING_REFUSE_ALL=1 make up`. Booleans are
`1`/`true` or `0`/`false`. A variable read by two processes has one row for each.
"""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    read_by: str
    description: str


def env_names(settings: type[BaseSettings], name: str, field: FieldInfo) -> list[str]:
    """The variables pydantic-settings reads for one field: its alias, or prefix + name."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return [alias.upper()]
    if isinstance(alias, AliasChoices):
        return [choice.upper() for choice in alias.choices if isinstance(choice, str)]
    return [f"{settings.model_config.get('env_prefix', '')}{name}".upper()]


def shown_default(field: FieldInfo) -> str:
    value: Any = field.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, dict | list):
        return f"`{json.dumps(value)}`"
    if isinstance(value, Path | Decimal | int | float | str):
        return f"`{value}`"
    raise TypeError(f"no way to show a default of type {type(value).__name__}")


def _read_by(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    read_by = extra.get(READ_BY) if isinstance(extra, dict) else None
    if not isinstance(read_by, str):
        raise ValueError(f"a runtime setting without {READ_BY}: {field}")
    return read_by


def _variables(
    settings: type[BaseSettings], read_by: str, names: list[str], service: str = ""
) -> Iterator[Variable]:
    for name in names:
        field = settings.model_fields[name]
        for variable in env_names(settings, name, field):
            yield Variable(
                variable,
                shown_default(field),
                read_by or _read_by(field),
                field.description or described(variable, service),
            )


def described(variable: str, service: str = "") -> str:
    """DESCRIPTIONS' text for `variable`, by its own name or as one of every service's."""
    if variable in DESCRIPTIONS:
        return DESCRIPTIONS[variable]
    if not service:
        return ""
    generic = variable.replace(f"_{service.upper()}_", f"_{SERVICE_PLACEHOLDER}_", 1)
    return DESCRIPTIONS.get(generic, "").format(service=service)


def _is_shared(name: str) -> bool:
    """A field of every service with one fixed variable name (chassis/settings.py)."""
    field = ServiceSettings.model_fields.get(name)
    return field is not None and field.validation_alias is not None


def service_settings() -> dict[str, type[ServiceSettings]]:
    """Each service's settings class, found in the module its app is built in."""
    found: dict[str, type[ServiceSettings]] = {}
    for service, target in APPS.items():
        module = importlib.import_module(target.partition(":")[0])
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, ServiceSettings)
                and value.__module__ == module.__name__
            ):
                found[service] = value
    return found


def variables() -> list[Variable]:
    found = list(_variables(RuntimeSettings, "", list(RuntimeSettings.model_fields)))
    shared = [name for name in ServiceSettings.model_fields if _is_shared(name)]
    found += _variables(ServiceSettings, EVERY_SERVICE, shared)
    for service, settings in service_settings().items():
        own = [n for n in settings.model_fields if not _is_shared(n) and n not in NOT_SETTINGS]
        found += _variables(settings, service, own, service)
    readers = [EVERY_SERVICE, *APPS]
    # Alphabetical to look a name up; the command's row before the services'.
    return sorted(found, key=lambda v: (v.name, v.read_by in readers, v.read_by))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = [HEADER, "| variable | default | read by | what it does |", "|---|---|---|---|"]
    for v in variables():
        cells = (f"`{v.name}`", v.default, v.read_by, v.description)
        lines.append("| " + " | ".join(map(_cell, cells)) + " |")
    return "\n".join(lines) + "\n"
