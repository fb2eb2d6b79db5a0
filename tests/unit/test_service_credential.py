import time

import pytest

from microshop.chassis.service_auth import ServiceCredential
from microshop.contracts.errors import Unauthorized

KEY = b"k" * 32


def test_a_token_names_its_service_and_verifies_with_the_same_key() -> None:
    token = ServiceCredential(KEY, "orders").token()
    assert token.startswith("orders.")
    assert ServiceCredential(KEY, "payments").verify(token) == "orders"


@pytest.mark.parametrize(
    "token", [None, "", "orders", "orders.123.abc", "orders.99999999999.abc", "orders.x.y"]
)
def test_a_missing_malformed_or_forged_token_is_refused(token: str | None) -> None:
    with pytest.raises(Unauthorized):
        ServiceCredential(KEY, "payments").verify(token)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = ServiceCredential(b"other" * 8, "orders").token()
    with pytest.raises(Unauthorized):
        ServiceCredential(KEY, "payments").verify(token)


def test_an_expired_token_is_refused() -> None:
    checker = ServiceCredential(KEY, "payments")
    expired = int(time.time()) - 1
    token = f"orders.{expired}.{checker._sign('orders', expired)}"
    with pytest.raises(Unauthorized, match="expired"):
        checker.verify(token)
