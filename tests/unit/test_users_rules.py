import pytest

from microshop.services.users.domain import (
    PasswordRejected,
    access_token_claims,
    check_password,
    jwk_thumbprint,
    normalise_email,
)


def test_an_email_is_stored_lower_cased_and_trimmed() -> None:
    assert normalise_email("  Alice.Smith@Example.COM ") == "alice.smith@example.com"


def test_the_same_address_in_another_case_normalises_to_the_same_key() -> None:
    assert normalise_email("BOB@example.com") == normalise_email("bob@EXAMPLE.com")


@pytest.mark.parametrize("password", ["12345678", "x" * 128, "pässwörd-ünïcode"])
def test_a_password_of_8_to_128_characters_is_accepted(password: str) -> None:
    check_password(password, open_mode=False)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("1234567", "at least 8"),
        ("x" * 129, "at most 128"),
        (None, "required"),
    ],
)
def test_a_password_outside_the_policy_is_rejected_with_its_reason(
    password: str | None, reason: str
) -> None:
    with pytest.raises(PasswordRejected, match=reason):
        check_password(password, open_mode=False)


def test_open_mode_registers_a_user_without_a_password() -> None:
    check_password(None, open_mode=True)


def test_open_mode_still_refuses_a_short_password() -> None:
    with pytest.raises(PasswordRejected):
        check_password("short", open_mode=True)


def test_token_claims_name_the_user_the_issuer_and_the_audience() -> None:
    claims = access_token_claims(
        user_id=42,
        role="customer",
        email="a@example.com",
        name="Ada",
        issued_at=1_700_000_000,
        ttl_seconds=3600,
        issuer="microshop",
        audience="microshop",
    )
    assert claims == {
        "iss": "microshop",
        "aud": "microshop",
        "sub": "42",
        "role": "customer",
        "email": "a@example.com",
        "name": "Ada",
        "iat": 1_700_000_000,
        "exp": 1_700_003_600,
    }


def test_a_token_expires_its_ttl_after_it_was_issued() -> None:
    claims = access_token_claims(
        user_id=1,
        role="admin",
        email="admin@microshop.local",
        name="Administrator",
        issued_at=1000,
        ttl_seconds=60,
        issuer="i",
        audience="a",
    )
    assert claims["exp"] - claims["iat"] == 60


def test_the_key_id_is_the_rfc_7638_thumbprint_of_the_public_key() -> None:
    # The Ed25519 example of RFC 8037, appendix A.3.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint({**jwk, "use": "sig"}) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
