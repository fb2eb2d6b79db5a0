"""Bearer-token authentication every service shares.

The users service signs EdDSA JWTs and publishes its public keys as a JWKS; every
other service verifies tokens against that JWKS, fetched through the service
client and cached. Routes declare who may call them with `Annotated` aliases:

    @router.get("/orders")
    async def list_orders(user: CurrentUser) -> ...:
        ...

A verified token is remembered until it expires (bounded, keyed by the token
itself): a customer placing orders pays the signature check once, not per call.

In open mode (`microshop up --open`, for the chapter's tutorial) there is no
authentication: every caller acts as an administrator without an identity.
"""

import time
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
import structlog
from fastapi import Depends, Request

from microshop.chassis.client import ServiceClient
from microshop.contracts.errors import Forbidden, Unauthorized

log = structlog.get_logger()

ISSUER = "microshop"
AUDIENCE = "microshop"
ALGORITHMS = ["EdDSA"]
VERIFIED_TOKENS_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int | None
    role: str
    token: str | None = None
    email: str | None = None
    # The account's name as the users service signed it (accounts never rename
    # through the API), so an order needs no call to the users service.
    name: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_act_for(self, user_id: int) -> bool:
        return self.is_admin or self.user_id == user_id

    @property
    def owner_filter(self) -> int | None:
        """The `user_id` a list this caller asks for is filtered on: their own rows,
        or None (no filter, everyone's) for an admin."""
        return None if self.is_admin else self.user_id


OPEN_PRINCIPAL = Principal(user_id=None, role="admin")


class KeySource(Protocol):
    async def key_for(self, kid: str | None) -> Any: ...


class JwksKeySource:
    """Public keys from a peer's JWKS endpoint, refreshed when an unknown kid shows
    up (key rotation) but at most every `min_refresh` seconds (no fetch storms)."""

    def __init__(
        self, client: ServiceClient, service: str = "users", path: str = "/auth/jwks"
    ) -> None:
        self.client, self.service, self.path = client, service, path
        self.min_refresh = 10.0
        self._keys: dict[str | None, Any] = {}
        self._fetched_at = 0.0

    async def key_for(self, kid: str | None) -> Any:
        if kid not in self._keys and time.monotonic() - self._fetched_at > self.min_refresh:
            await self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthorized("Unknown signing key") from None

    async def _refresh(self) -> None:
        reply = await self.client.get(self.service, self.path)
        self._fetched_at = time.monotonic()
        keys = jwt.PyJWKSet.from_dict(reply.body).keys
        self._keys = {k.key_id: k.key for k in keys}
        if len(keys) == 1:
            self._keys[None] = keys[0].key


class TokenVerifier:
    def __init__(self, keys: KeySource, kept: int = VERIFIED_TOKENS_KEPT) -> None:
        self.keys = keys
        self.kept = kept
        # token -> (principal, expiry): insertion order is age, so the oldest goes first.
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            if hit[1] > time.time():
                return hit[0]
            del self._verified[token]
        principal, expires = await self._check(token)
        if len(self._verified) >= self.kept:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, expires)
        return principal

    async def _check(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("Invalid token") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("Invalid token")
        key = await self.keys.key_for(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Token expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("Invalid token") from None
        try:
            user_id = int(claims["sub"])
        except (TypeError, ValueError):
            raise Unauthorized("Invalid token") from None
        principal = Principal(
            user_id=user_id,
            role=claims.get("role", "customer"),
            token=token,
            email=claims.get("email"),
            name=claims.get("name"),
        )
        return principal, float(claims["exp"])


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


async def current_user(request: Request) -> Principal:
    if request.app.state.settings.open_mode:
        return OPEN_PRINCIPAL
    token = _bearer(request)
    if token is None:
        raise Unauthorized()
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify(token)


async def admin_user(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    if not user.is_admin:
        raise Forbidden("Admin role required")
    return user


CurrentUser = Annotated[Principal, Depends(current_user)]
AdminUser = Annotated[Principal, Depends(admin_user)]
