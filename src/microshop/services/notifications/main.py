"""Composition root of the notifications service."""

from pathlib import Path

from fastapi import FastAPI
from pydantic import AliasChoices, Field

from microshop.chassis import ServiceSettings, ServiceSpec, create_app, service_config
from microshop.services.notifications.api import router
from microshop.services.notifications.handlers import HANDLERS, send_together
from microshop.services.notifications.mailer import FolderMailer, SmtpMailer


class NotificationsSettings(ServiceSettings):
    model_config = service_config("notifications")
    service_name: str = "notifications"
    smtp_url: str | None = Field(None, validation_alias=AliasChoices("MICROSHOP_SMTP_URL"))
    mail_dir: Path | None = None  # default: <data dir>/mail


async def choose_mailer(app: FastAPI) -> None:
    settings: NotificationsSettings = app.state.settings
    app.state.mailer = (
        SmtpMailer(settings.smtp_url)
        if settings.smtp_url
        else FolderMailer(settings.mail_dir or settings.data_dir / "mail")
    )


def build_app(settings: NotificationsSettings | None = None) -> FastAPI:
    spec = ServiceSpec(
        "notifications",
        [router],
        Path(__file__).parent / "migrations",
        startup=[choose_mailer],
        handlers=HANDLERS,
        apply_together=send_together,
    )
    return create_app(spec, settings or NotificationsSettings())
