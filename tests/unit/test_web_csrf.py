"""The storefront's CSRF tokens: each is the signature of one visitor's cookie."""

from microshop.services.web.csrf import CsrfGuard

KEY = b"the services' shared key"


def test_a_token_is_accepted_with_the_cookie_it_was_made_for() -> None:
    guard = CsrfGuard(KEY)
    secret = guard.new_secret()
    assert guard.accepts(secret, guard.token_for(secret))


def test_a_token_made_for_another_visitor_is_refused() -> None:
    guard = CsrfGuard(KEY)
    mine, theirs = guard.new_secret(), guard.new_secret()
    assert not guard.accepts(mine, guard.token_for(theirs))


def test_a_missing_cookie_or_token_is_refused() -> None:
    guard = CsrfGuard(KEY)
    secret = guard.new_secret()
    assert not guard.accepts(None, guard.token_for(secret))
    assert not guard.accepts(secret, None)
    assert not guard.accepts("", "")


def test_a_token_signed_with_another_key_is_refused() -> None:
    secret = CsrfGuard.new_secret()
    forged = CsrfGuard(b"a key guessed by someone else").token_for(secret)
    assert not CsrfGuard(KEY).accepts(secret, forged)


def test_every_replica_sharing_the_key_accepts_the_others_tokens() -> None:
    secret = CsrfGuard.new_secret()
    assert CsrfGuard(KEY).accepts(secret, CsrfGuard(KEY).token_for(secret))


def test_the_token_is_not_the_service_key_signature_of_the_secret() -> None:
    import hashlib
    import hmac

    secret = CsrfGuard.new_secret()
    plain = hmac.new(KEY, secret.encode(), hashlib.sha256).hexdigest()
    assert CsrfGuard(KEY).token_for(secret) != plain
