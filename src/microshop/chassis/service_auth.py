"""The credential calls between services carry: a short-lived token signed with a
key only the services hold, checked on every /internal route (chassis/lean.py).

    X-Service-Token: orders.1764633600.5d1f...   (caller, expiry, HMAC-SHA256)

The key is MICROSHOP_SERVICE_KEY, or `<data dir>/secrets/service-key`, made once
by the first service to start (replicas sharing a data dir share it; across hosts,
give every service the same MICROSHOP_SERVICE_KEY, e.g. from a Kubernetes Secret).
A token is valid for ten minutes; the key never travels. A verified token is
remembered until it expires, so checking costs a dict lookup, not an HMAC.
"""

import hashlib
import hmac
import secrets
import time
from pathlib import Path

from microshop.chassis import secret_files
from microshop.contracts.errors import Unauthorized

HEADER = "X-Service-Token"
TOKEN_LIFETIME_S = 600
VERIFIED_KEPT = 1024


def load_or_create_key(configured: str | None, secrets_dir: Path) -> bytes:
    if configured:
        return configured.encode()
    path = secrets_dir / "service-key"
    if not path.exists():
        secret_files.create_once(path, secrets.token_hex(32).encode())
    return path.read_bytes().strip()


class ServiceCredential:
    def __init__(self, key: bytes, service: str) -> None:
        self.key, self.service = key, service
        self._token, self._token_expires = "", 0.0
        self._verified: dict[str, float] = {}

    def _sign(self, service: str, expires: int) -> str:
        message = f"{service}.{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def token(self) -> str:
        """This service's current token (a new one once half its lifetime is gone)."""
        now = time.time()
        if now > self._token_expires - TOKEN_LIFETIME_S / 2:
            expires = int(now) + TOKEN_LIFETIME_S
            self._token = f"{self.service}.{expires}.{self._sign(self.service, expires)}"
            self._token_expires = expires
        return self._token

    def verify(self, token: str | None) -> str:
        """The calling service's name; Unauthorized if the token is missing, forged or old."""
        if not token:
            raise Unauthorized("Service credential required")
        now = time.time()
        expires_at = self._verified.get(token)
        if expires_at is not None and expires_at > now:
            return token.partition(".")[0]
        service, _, rest = token.partition(".")
        expires_text, _, signature = rest.partition(".")
        if not expires_text.isdigit() or int(expires_text) <= now:
            raise Unauthorized("Service credential expired or malformed")
        if not hmac.compare_digest(signature, self._sign(service, int(expires_text))):
            raise Unauthorized("Service credential invalid")
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[token] = float(expires_text)
        return service


def operator_credential(configured: str | None, data_dir: Path) -> ServiceCredential:
    """The credential of an operator's command on the machine of a running system
    (`microshop saga list`, the benchmark's saga count): it reads the system's key."""
    return ServiceCredential(load_or_create_key(configured, data_dir / "secrets"), "operator")
