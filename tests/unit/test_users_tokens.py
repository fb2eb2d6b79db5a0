import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microshop.chassis.auth import AUDIENCE, ISSUER, TokenVerifier
from microshop.chassis.errors import Unauthorized
from microshop.services.users.domain import access_token_claims
from microshop.services.users.keys import LocalKeySource, SigningKey


def _claims(**overrides: object) -> dict[str, object]:
    claims = access_token_claims(
        user_id=7,
        role="customer",
        email="c@example.com",
        name="Cy",
        issued_at=int(time.time()),
        ttl_seconds=3600,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    return {**claims, **overrides}


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.from_private_key(Ed25519PrivateKey.generate())


async def test_a_signed_token_verifies_against_the_services_own_key(key: SigningKey) -> None:
    principal = await TokenVerifier(LocalKeySource(key)).verify(key.sign(_claims()))
    assert (principal.user_id, principal.role, principal.email) == (7, "customer", "c@example.com")


async def test_a_token_names_its_key_in_the_header(key: SigningKey) -> None:
    assert jwt.get_unverified_header(key.sign(_claims())) == {
        "alg": "EdDSA",
        "kid": key.kid,
        "typ": "JWT",
    }


async def test_a_token_signed_by_another_key_is_refused(key: SigningKey) -> None:
    other = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    forged = jwt.encode(_claims(), other.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    with pytest.raises(Unauthorized):
        await TokenVerifier(LocalKeySource(key)).verify(forged)


async def test_a_token_naming_an_unknown_key_is_refused(key: SigningKey) -> None:
    other = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    with pytest.raises(Unauthorized, match="Unknown signing key"):
        await TokenVerifier(LocalKeySource(key)).verify(other.sign(_claims()))


async def test_an_expired_token_is_refused(key: SigningKey) -> None:
    past = int(time.time()) - 7200
    with pytest.raises(Unauthorized, match="expired"):
        await TokenVerifier(LocalKeySource(key)).verify(key.sign(_claims(iat=past, exp=past + 60)))


def test_the_jwks_publishes_only_the_public_half(key: SigningKey) -> None:
    (published,) = key.jwks()["keys"]
    assert published.keys() == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (published["kty"], published["crv"], published["alg"], published["use"]) == (
        "OKP",
        "Ed25519",
        "EdDSA",
        "sig",
    )
    assert published["kid"] == key.kid


def test_the_same_key_always_gets_the_same_kid(key: SigningKey) -> None:
    assert SigningKey.from_private_key(key.private_key).kid == key.kid
