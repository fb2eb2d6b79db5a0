"""Settings every service shares, read from `MICROSHOP_*` environment variables.

Each service subclasses `ServiceSettings` with its own env prefix, so its own
fields read `MICROSHOP_<SERVICE>_<FIELD>` while the shared ones below keep their
fixed `MICROSHOP_<FIELD>` names:

    class CatalogSettings(ServiceSettings):
        model_config = service_config("catalog")
"""

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def service_config(service: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=f"MICROSHOP_{service.upper()}_", extra="ignore", populate_by_name=True
    )


def _shared(name: str, default: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(f"MICROSHOP_{name}"))


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "service"
    # Per service (env prefix): where its own database lives; None = SQLite file in the data dir.
    database_url: str | None = None

    # Shared by every service (fixed names).
    data_dir: Path = _shared("DATA_DIR", Path(".microshop"))
    open_mode: bool = _shared("OPEN", False)
    # service -> base URL, or a list of them (several instances).
    peers: dict[str, str | list[str]] = _shared("PEERS", {})
    log_format: str = _shared("LOG_FORMAT", "console")
    log_level: str = _shared("LOG_LEVEL", "info")
    http_timeout: float = _shared("HTTP_TIMEOUT", 3.0)
    http_retries: int = _shared("HTTP_RETRIES", 2)
    breaker_failures: int = _shared("BREAKER_FAILURES", 5)
    breaker_reset_seconds: float = _shared("BREAKER_RESET_SECONDS", 60.0)
    http_connections_per_peer: int = _shared("HTTP_CONNECTIONS_PER_PEER", 100)
    sqlite_synchronous: str = _shared("SQLITE_SYNCHRONOUS", "NORMAL")
    # Connections each instance keeps to a PostgreSQL or MariaDB server, at most
    # (many instances on one server: mind its max_connections).
    database_pool_size: int = Field(
        10, ge=1, validation_alias=AliasChoices("MICROSHOP_DATABASE_POOL_SIZE")
    )
    max_body_bytes: int = _shared("MAX_BODY_BYTES", 1024 * 1024)
    # nats://... or amqp://...; None runs without a broker (events stay in the outbox).
    broker_url: str | None = _shared("BROKER_URL", None)
    # Names of streams, subjects, exchanges and queues start with this (shared servers).
    bus_prefix: str = _shared("BUS_PREFIX", "microshop")
    # Streams and key-value buckets are kept on this many NATS servers (3 in a cluster).
    stream_replicas: int = _shared("STREAM_REPLICAS", 1)
    # The key service credentials are signed with (chassis/service_auth.py); None: a
    # file in the data dir's secrets, made by the first service to start.
    service_key: SecretStr | None = _shared("SERVICE_KEY", None)
    # Where instances register and find each other (chassis/registry/): nats://...,
    # consul://host:port or static:. None: the broker when it is NATS, else static.
    registry_url: str | None = _shared("REGISTRY_URL", None)
    # This instance's id in the registry (`microshop up` names them orders-1, orders-2);
    # None: the service's name and a random suffix.
    instance_id: str | None = _shared("INSTANCE_ID", None)
    # The address and port the other instances reach this one at; `microshop serve`
    # fills in its --host and --port when these are not set. No port: no registration.
    advertise_host: str | None = _shared("ADVERTISE_HOST", None)
    advertise_port: int | None = _shared("ADVERTISE_PORT", None)
    # Traces (chassis/tracing.py): off records no span (trace ids still travel and
    # are logged). A trace's root is sampled with this probability, and the first
    # root of every 1/per_second seconds; callers' decisions are followed.
    tracing: bool = _shared("TRACING", True)
    trace_sample_ratio: float = _shared("TRACE_SAMPLE_RATIO", 0.0)
    trace_sample_per_second: float = _shared("TRACE_SAMPLE_PER_SECOND", 1.0)
    # Where spans go over OTLP/HTTP (a base URL: Jaeger, Tempo, a collector, e.g.
    # http://127.0.0.1:4318); None: the ops service, which keeps the last traces.
    otlp_endpoint: str | None = _shared("OTLP_ENDPOINT", None)
    # One JSON line per request served and per event handled: `file` writes
    # <data dir>/logs/<instance>.jsonl (what `microshop logs --order` reads),
    # `stderr` writes them with the other log lines (containers), `off` none.
    request_log: str = _shared("REQUEST_LOG", "file")
    # Fault injection, off by default: crash points to SIGKILL at (chassis/faults.py).
    crash_at: str | None = _shared("CRASH_AT", None)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = (self.data_dir / "data" / f"{self.service_name}.db").resolve()
        return f"sqlite:///{path}"

    def resolved_registry_url(self) -> str:
        if self.registry_url:
            return self.registry_url
        if self.broker_url and self.broker_url.startswith("nats://"):
            return self.broker_url
        return "static:"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"
