"""The key pair that signs access tokens: Ed25519, kept as a PKCS8 PEM file.

The first replica to start generates it; every later start (and every replica
sharing the data directory or the mounted secret) reads the same file.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from microshop.chassis import secret_files
from microshop.chassis.auth import ALGORITHMS
from microshop.contracts.errors import Unauthorized
from microshop.services.users.domain import jwk_thumbprint

log = structlog.get_logger()

ALGORITHM = ALGORITHMS[0]


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    kid: str

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey) -> "SigningKey":
        return cls(private_key, jwk_thumbprint(_public_jwk(private_key.public_key())))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        public = _public_jwk(self.public_key)
        return {"keys": [{**public, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}]}


def load_or_create(path: Path) -> SigningKey:
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if secret_files.create_once(path, pem):
            log.info("token signing key created", path=str(path))
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return SigningKey.from_private_key(private_key)


class LocalKeySource:
    """The chassis KeySource for the users service itself: it verifies with its own key."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key

    async def key_for(self, kid: str | None) -> Any:
        # A token without a kid is tried against the only key, as JwksKeySource does.
        if kid not in (None, self.key.kid):
            raise Unauthorized("Unknown signing key")
        return self.key.public_key


def _public_jwk(public_key: Ed25519PublicKey) -> dict[str, Any]:
    return cast(dict[str, Any], OKPAlgorithm.to_jwk(public_key, as_dict=True))
