from microshop.services.users.passwords import hash_password, needs_rehash, verify_password


async def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_it() -> None:
    stored = await hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "correct horse battery" not in stored
    assert await verify_password(stored, "correct horse battery")
    assert not needs_rehash(stored)


async def test_a_wrong_password_does_not_verify() -> None:
    assert not await verify_password(await hash_password("correct horse battery"), "wrong")


async def test_an_account_without_a_hash_never_verifies() -> None:
    assert not await verify_password(None, "a password nobody has")
    assert not await verify_password("not a hash", "anything")
