"""What the `microshop` command (and the supervisor that `microshop up` runs) reads
from the environment; the services read theirs through chassis/settings.py.
docs/settings.md lists both, generated from the classes (tools/settingsdocs.py).

    settings = RuntimeSettings()     # the environment as it is now
    settings.gateway_rate_limit()    # RateLimit(10, 1, 20); None for "off"
"""

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from microshop.gateway.ratelimit import DEFAULT_RATE_LIMIT, RateLimit, parse_rate_limit

# The key under which each field names its readers in the settings table.
READ_BY = "read_by"
DEFAULT_BUS_PREFIX = "microshop"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _setting(default: Any, read_by: str, description: str, **field: Any) -> Any:
    return Field(default, description=description, json_schema_extra={READ_BY: read_by}, **field)


class RuntimeSettings(BaseSettings):
    # An empty variable counts as unset, as `VAR= microshop up` means.
    model_config = SettingsConfigDict(
        env_prefix="MICROSHOP_", extra="ignore", env_ignore_empty=True
    )

    broker_url: str | None = _setting(
        None,
        "`microshop up`, `microshop events`",
        "The broker (`nats://…` or `amqp://…`) `up` runs the services on instead of "
        "starting the embedded NATS, and the one `events` commands read without "
        "`--broker`. Unset: the embedded NATS; for `events`, the running system's broker.",
    )
    bus_prefix: str | None = _setting(
        None,
        "`microshop up`, `microshop events`",
        "The prefix `up` gives the services for their streams, subjects, exchanges and "
        "queues, and the one `events` commands read. Unset: `microshop` "
        "(for `events`, the running system's prefix).",
    )
    rate_limit: str = _setting(
        DEFAULT_RATE_LIMIT,
        "`microshop up`, `microshop gateway config`, `microshop gateway serve`",
        "The gateway's limit per client IP, `<requests>/<s|m|h>:<burst>`, or `off`; "
        "above it the gateway answers 429.",
    )
    max_body_bytes: int = _setting(
        DEFAULT_MAX_BODY_BYTES,
        "`microshop up`, `microshop gateway config`, `microshop gateway serve`",
        "The largest request body the gateway lets through (413 above it).",
        gt=0,
    )
    admin_password: SecretStr | None = _setting(
        None,
        "`microshop up`, `microshop status`",
        "When set, the summary says the admin's password comes from this variable "
        "instead of naming the file in `<data dir>/secrets`.",
    )
    service_key: SecretStr | None = _setting(
        None,
        "`microshop saga list`",
        "The key the services sign their /internal calls with; `saga list` signs its "
        "call to the orders service with it. Unset: the key file in `<data dir>/secrets`.",
    )
    preload: bool = _setting(
        True,
        "`microshop up`",
        "Start the services as forks of one process that imported them all once "
        "(about a second per service less to start, and their libraries' memory "
        "shared). `0`: start each as its own `python -m microshop serve`.",
    )
    seed_baseline: Path | None = _setting(
        None,
        "`microshop bench compare`",
        "Where the reference scenario's own system is. "
        "Unset: `../shared/bench/seed-baseline` beside the repository.",
    )
    # The informal standard (no-color.org), hence no MICROSHOP_ prefix.
    no_color: str | None = _setting(
        None,
        "`microshop up`",
        "Set to anything: the supervisor's log lines carry no colour codes, even on a terminal.",
        validation_alias="NO_COLOR",
    )

    def gateway_rate_limit(self) -> RateLimit | None:
        """The parsed MICROSHOP_RATE_LIMIT; raises InvalidRateLimit."""
        return parse_rate_limit(self.rate_limit)

    @property
    def admin_password_from_env(self) -> bool:
        return bool(self.admin_password and self.admin_password.get_secret_value())

    @property
    def colour(self) -> bool:
        return self.no_color is None
