"""Users rules: pure Python, no I/O."""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from microshop.contracts.errors import Conflict, Invalid, NotFound

CUSTOMER = "customer"
ADMIN = "admin"
ADMIN_EMAIL = "admin@microshop.local"

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str
    role: str
    # None for a user registered without a password in open mode: it cannot log in.
    password_hash: str | None


class PasswordRejected(Invalid, ValueError):
    """A password that the policy refuses; the message says why."""


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("Email already registered")


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("User not found")


def normalise_email(email: str) -> str:
    # One address, one account: Alice@Example.com and alice@example.com collide.
    return email.strip().lower()


def check_password(password: str | None, *, open_mode: bool) -> None:
    """Raise PasswordRejected unless `password` may protect an account.

    Only open mode (the chapter's tutorial) registers users without a password;
    such a user simply cannot log in.
    """
    if password is None:
        if open_mode:
            return
        raise PasswordRejected("Password is required")
    if len(password) < PASSWORD_MIN_LENGTH:
        raise PasswordRejected(f"Password must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise PasswordRejected(f"Password must be at most {PASSWORD_MAX_LENGTH} characters")


def access_token_claims(
    *,
    user_id: int,
    role: str,
    email: str,
    name: str,
    issued_at: int,
    ttl_seconds: int,
    issuer: str,
    audience: str,
) -> dict[str, Any]:
    """The claims of a bearer token: who (sub, role, email, name), for whom (iss, aud),
    until when. The name rides along because accounts never rename through the API:
    a service that needs it (orders) reads it here instead of asking the users service."""
    return {
        "iss": issuer,
        "aud": audience,
        "sub": str(user_id),
        "role": role,
        "email": email,
        "name": name,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
    }


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an OKP public key: the same key always gets the same kid,
    so replicas sharing a key agree on it without coordination."""
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    digest = hashlib.sha256(canonical).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
