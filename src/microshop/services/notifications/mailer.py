"""Delivering a rendered e-mail: SMTP when MICROSHOP_SMTP_URL is set, otherwise an
RFC 5322 `.eml` file in the mail folder (what `microshop up` uses by default)."""

import os
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import aiosmtplib

from microshop.services.notifications.domain import SENDER_ADDRESS, Email


class Mailer(Protocol):
    transport: str

    def location_of(self, email: Email) -> str:
        """Where `send` delivers it (known before sending: it is recorded first)."""

    async def send(self, email: Email, now: datetime) -> None: ...


class FolderMailer:
    transport = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made = False

    def location_of(self, email: Email) -> str:
        return f"{self.folder}/{email.key}.eml"

    async def send(self, email: Email, now: datetime) -> None:
        if not self._made:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._made = True
        # Plain strings and os calls: two e-mails per order, and pathlib's objects
        # cost more than the file itself (profiled).
        target = self.location_of(email)
        tmp = f"{target}.tmp{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, email.rfc5322(now))
        finally:
            os.close(fd)
        # Same key, same file: a resend after a crash replaces it, never adds a second.
        os.replace(tmp, target)


class SmtpMailer:
    transport = "smtp"

    def __init__(self, url: str) -> None:
        parts = urlparse(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 25
        self.username, self.password = parts.username, parts.password
        self.tls = parts.scheme == "smtps"

    def location_of(self, email: Email) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def send(self, email: Email, now: datetime) -> None:
        await aiosmtplib.send(
            email.rfc5322(now),
            sender=SENDER_ADDRESS,
            recipients=[email.to],
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.tls,
            timeout=10,
        )
