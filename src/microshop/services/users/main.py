"""Composition root of the users service."""

from pathlib import Path

import structlog
from fastapi import FastAPI
from pydantic import Field, SecretStr, field_validator

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, secret_files, service_config
from microshop.services.users import keys, service
from microshop.services.users.api import auth_router, users_router
from microshop.services.users.domain import ADMIN_EMAIL, check_password

log = structlog.get_logger()


class UsersSettings(ServiceSettings):
    model_config = service_config("users")
    service_name: str = "users"

    token_ttl_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600)
    # Default: <data_dir>/secrets/jwt-signing-key.pem; set it to a mounted secret in Kubernetes.
    signing_key_file: Path | None = None
    admin_password: SecretStr | None = Field(None, validation_alias="MICROSHOP_ADMIN_PASSWORD")

    @field_validator("admin_password")
    @classmethod
    def _admin_password_meets_the_policy(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_password(value.get_secret_value(), open_mode=False)
        return value

    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.secrets_dir / "jwt-signing-key.pem"

    @property
    def admin_password_file(self) -> Path:
        return self.secrets_dir / "admin-password"


def own_key_source(app: FastAPI) -> keys.LocalKeySource:
    settings: UsersSettings = app.state.settings
    app.state.signing_key = keys.load_or_create(settings.resolved_signing_key_file())
    return keys.LocalKeySource(app.state.signing_key)


async def bootstrap_admin(app: FastAPI) -> None:
    settings: UsersSettings = app.state.settings
    if settings.open_mode:
        # Open mode needs no admin (every caller is one), and skipping it keeps the
        # chapter's walkthrough exact: the first user it registers is /users/1.
        return
    configured = settings.admin_password.get_secret_value() if settings.admin_password else None
    password_file = settings.admin_password_file
    kept: list[str] = []

    def keep_password(password: str) -> None:
        secret_files.replace(password_file, password.encode())
        kept.append(password)

    admin = await service.ensure_admin(app.state.db, configured, keep_password)
    if admin is None:
        return
    if kept:
        # Logged this once only: the file is where the operator finds it afterwards.
        log.warning(
            "admin account created",
            email=ADMIN_EMAIL,
            password=kept[0],
            kept_in=str(password_file),
        )
    else:
        log.info("admin account created", email=ADMIN_EMAIL, password="MICROSHOP_ADMIN_PASSWORD")


def build_app(settings: UsersSettings | None = None) -> FastAPI:
    spec = ServiceSpec(
        "users",
        [users_router, auth_router],
        Path(__file__).parent / "migrations",
        startup=[bootstrap_admin],
        key_source=own_key_source,
    )
    return create_app(spec, settings or UsersSettings())
