import asyncio
import base64
import json
import stat
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import jwt
import pytest

from microshop.chassis.auth import ALGORITHMS, AUDIENCE, ISSUER
from microshop.services.users import keys
from microshop.services.users.main import UsersSettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import serving
from tests.support.http import Api
from tests.support.servers import postgres_database

ADMIN_EMAIL = "admin@microshop.local"
ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "correct horse battery"


@pytest.fixture
async def users(databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Api]:
    async with databases("users") as url:
        settings = UsersSettings(database_url=url, data_dir=tmp_path, admin_password=ADMIN_PASSWORD)
        async with serving(build_app(settings)) as base:
            api = Api(base)
            yield api
            await api.close()


async def register(api: Api, email: str, name: str = "Alice") -> dict[str, Any]:
    status, user = await api.post("/users", {"name": name, "email": email, "password": PASSWORD})
    assert status == 201, user
    return dict(user)


async def login(api: Api, email: str, password: str = PASSWORD) -> str:
    status, reply = await api.post("/auth/token", {"email": email, "password": password})
    assert status == 200, reply
    return str(reply["access_token"])


async def all_users(api: Api) -> list[dict[str, Any]]:
    status, users = await api.as_user(await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)).get("/users")
    assert status == 200
    return list(users)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_registration_creates_a_customer_and_never_returns_the_password(
    users: Api,
) -> None:
    status, user = await users.post(
        "/users", {"name": "Alice", "email": "Alice@Example.com", "password": PASSWORD}
    )
    assert status == 201
    assert user == {
        "id": user["id"],
        "name": "Alice",
        "email": "alice@example.com",
        "role": "customer",
    }
    assert isinstance(user["id"], int)


async def test_the_same_email_in_another_case_is_a_conflict_and_stays_one_user(
    users: Api,
) -> None:
    await register(users, "bob@example.com")
    status, error = await users.post(
        "/users", {"name": "Bob again", "email": "BOB@Example.COM", "password": PASSWORD}
    )
    assert (status, error) == (409, {"error": "Email already registered"})
    assert [u["email"] for u in await all_users(users)].count("bob@example.com") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "email": "not-an-email", "password": PASSWORD},
        {"name": "X", "email": "x@example.com"},
        {"name": "X", "email": "x@example.com", "password": "short"},
        {"name": "X", "email": "x@example.com", "password": "p" * 129},
        {"name": "", "email": "x@example.com", "password": PASSWORD},
        {"name": "X", "email": "x@example.com", "password": PASSWORD, "role": "admin"},
        {"email": "x@example.com", "password": PASSWORD},
    ],
)
async def test_an_invalid_registration_is_refused_and_nothing_is_written(
    users: Api, body: dict[str, Any]
) -> None:
    status, error = await users.post("/users", body)
    assert status == 422 and isinstance(error["error"], str)
    assert [u["email"] for u in await all_users(users)] == [ADMIN_EMAIL]


async def test_a_body_that_is_not_json_is_a_400_and_nothing_is_written(users: Api) -> None:
    status, error = await users.post(
        "/users", data='{"name": "X", "email":', headers={"Content-Type": "application/json"}
    )
    assert (status, error) == (400, {"error": "Malformed JSON body"})
    assert len(await all_users(users)) == 1


async def test_the_right_password_gets_a_bearer_token(users: Api) -> None:
    await register(users, "carol@example.com")
    status, reply = await users.post(
        "/auth/token", {"email": "Carol@example.com", "password": PASSWORD}
    )
    assert status == 200
    assert reply == {
        "access_token": reply["access_token"],
        "token_type": "bearer",
        "expires_in": 3600,
    }


@pytest.mark.parametrize(
    ("email", "password"),
    [("dave@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
async def test_a_wrong_email_or_password_gets_the_same_401(
    users: Api, email: str, password: str
) -> None:
    await register(users, "dave@example.com")
    status, error = await users.post("/auth/token", {"email": email, "password": password})
    assert (status, error) == (401, {"error": "Invalid email or password"})


async def test_the_token_verifies_against_the_published_jwks_and_carries_the_claims(
    users: Api,
) -> None:
    user = await register(users, "erin@example.com")
    before = int(time.time())
    token = await login(users, "erin@example.com")
    status, jwks = await users.get("/auth/jwks")
    assert status == 200
    (published,) = jwks["keys"]
    assert published.keys() == {"kty", "crv", "x", "kid", "alg", "use"}
    assert jwt.get_unverified_header(token)["kid"] == published["kid"]

    key = jwt.PyJWKSet.from_dict(jwks)[published["kid"]].key
    claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == str(user["id"])
    assert (claims["role"], claims["email"]) == ("customer", "erin@example.com")
    assert before <= claims["iat"] <= claims["exp"] - 3600 <= int(time.time())


async def test_me_is_the_caller(users: Api) -> None:
    user = await register(users, "fay@example.com")
    assert await users.as_user(await login(users, "fay@example.com")).get("/users/me") == (
        200,
        user,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _unsigned(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, None, algorithm="none")


async def test_a_tampered_an_expired_and_an_unsigned_token_are_refused(
    users: Api, tmp_path: Path
) -> None:
    await register(users, "gus@example.com")
    token = await login(users, "gus@example.com")
    signing_key = keys.load_or_create(tmp_path / "secrets" / "jwt-signing-key.pem")
    claims = jwt.decode(token, options={"verify_signature": False})
    expired = signing_key.sign({**claims, "iat": claims["iat"] - 7200, "exp": claims["iat"] - 60})

    for bad in (_tampered(token), expired, _unsigned(token), "not.a.token"):
        status, error = await users.as_user(bad).get("/users/me")
        assert status == 401, bad
        assert error["error"] in {"Invalid token", "Token expired"}
    assert (await users.as_user(token).get("/users/me"))[0] == 200


async def test_without_a_token_me_is_a_401(users: Api) -> None:
    assert await users.get("/users/me") == (401, {"error": "Not authenticated"})


async def test_only_an_admin_lists_users(users: Api) -> None:
    await register(users, "hal@example.com")
    customer = users.as_user(await login(users, "hal@example.com"))
    assert await customer.get("/users") == (403, {"error": "Admin role required"})
    emails = [u["email"] for u in await all_users(users)]
    assert emails == [ADMIN_EMAIL, "hal@example.com"]


async def test_listing_is_capped_at_100_and_pages_with_offset(users: Api) -> None:
    await register(users, "ivy@example.com")
    admin = users.as_user(await login(users, ADMIN_EMAIL, ADMIN_PASSWORD))
    status, listed = await admin.get("/users?limit=1000&offset=1")
    assert (status, [u["email"] for u in listed]) == (200, ["ivy@example.com"])


async def test_a_customer_sees_another_users_account_as_missing(users: Api) -> None:
    jan = await register(users, "jan@example.com")
    kim = await register(users, "kim@example.com", name="Kim")
    as_jan = users.as_user(await login(users, "jan@example.com"))
    assert await as_jan.get(f"/users/{kim['id']}") == (404, {"error": "User not found"})
    assert await as_jan.get("/users/9999") == (404, {"error": "User not found"})
    assert await as_jan.get(f"/users/{jan['id']}") == (200, jan)
    as_admin = users.as_user(await login(users, ADMIN_EMAIL, ADMIN_PASSWORD))
    assert await as_admin.get(f"/users/{kim['id']}") == (200, kim)


async def test_the_first_start_creates_an_admin_with_a_random_password_kept_in_a_private_file(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    secrets_dir = tmp_path / "secrets"
    async with databases("users") as url:
        settings = UsersSettings(database_url=url, data_dir=tmp_path)
        async with serving(build_app(settings)) as base:
            api = Api(base)
            password = (secrets_dir / "admin-password").read_text()
            token = await login(api, ADMIN_EMAIL, password)
            status, me = await api.as_user(token).get("/users/me")
            await api.close()
    assert (status, me["role"], me["id"]) == (200, "admin", 1)
    assert mode(secrets_dir) == 0o700
    assert mode(secrets_dir / "admin-password") == 0o600
    assert mode(secrets_dir / "jwt-signing-key.pem") == 0o600
    assert b"BEGIN PRIVATE KEY" in (secrets_dir / "jwt-signing-key.pem").read_bytes()


async def test_a_restart_reuses_the_signing_key_and_creates_no_second_admin(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    password_file = tmp_path / "secrets" / "admin-password"
    async with databases("users") as url:
        settings = UsersSettings(database_url=url, data_dir=tmp_path)
        kids, tokens, passwords = [], [], []
        for _ in range(2):
            async with serving(build_app(settings)) as base:
                api = Api(base)
                _, jwks = await api.get("/auth/jwks")
                kids.append(jwks["keys"][0]["kid"])
                passwords.append(password_file.read_text())
                tokens.append(await login(api, ADMIN_EMAIL, passwords[-1]))
                # A token from the first run still works after the restart.
                status, listed = await api.as_user(tokens[0]).get("/users")
                await api.close()
    assert kids[0] == kids[1]
    assert passwords[0] == passwords[1]
    assert (status, [u["email"] for u in listed]) == (200, [ADMIN_EMAIL])


async def test_a_configured_admin_password_is_honoured_and_not_written_to_disk(
    users: Api, tmp_path: Path
) -> None:
    status, me = await users.as_user(await login(users, ADMIN_EMAIL, ADMIN_PASSWORD)).get(
        "/users/me"
    )
    assert (status, me["role"]) == (200, "admin")
    assert not (tmp_path / "secrets" / "admin-password").exists()


def test_a_configured_admin_password_must_meet_the_policy() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        UsersSettings(admin_password="short")


def test_the_admin_password_is_read_from_its_shared_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MICROSHOP_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setenv("MICROSHOP_USERS_TOKEN_TTL_SECONDS", "600")
    settings = UsersSettings()
    assert settings.admin_password is not None
    assert settings.admin_password.get_secret_value() == ADMIN_PASSWORD
    assert settings.token_ttl_seconds == 600


async def test_the_signing_key_can_live_outside_the_data_directory(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    key_file = tmp_path / "mounted" / "signing.pem"
    keys.load_or_create(key_file)
    expected_kid = keys.load_or_create(key_file).kid
    async with databases("users") as url:
        settings = UsersSettings(
            database_url=url,
            data_dir=tmp_path / "data-dir",
            signing_key_file=key_file,
            admin_password=ADMIN_PASSWORD,
        )
        async with serving(build_app(settings)) as base:
            api = Api(base)
            _, jwks = await api.get("/auth/jwks")
            await api.close()
    assert jwks["keys"][0]["kid"] == expected_kid
    assert not (tmp_path / "data-dir" / "secrets" / "jwt-signing-key.pem").exists()


async def test_open_mode_registers_without_a_password_and_the_first_user_is_number_one(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    async with databases("users") as url:
        settings = UsersSettings(database_url=url, data_dir=tmp_path, open_mode=True)
        async with serving(build_app(settings)) as base:
            api = Api(base)
            status, john = await api.post(
                "/users", {"name": "John Doe", "email": "john@example.com"}
            )
            assert (status, john["id"]) == (201, 1)
            assert await api.get("/users/1") == (200, john)
            assert await api.get("/users") == (200, [john])
            status, _ = await api.post(
                "/auth/token", {"email": "john@example.com", "password": "anything at all"}
            )
            await api.close()
    assert status == 401


async def test_two_replicas_starting_together_share_one_key_and_one_admin(
    tmp_path: Path,
) -> None:
    async with postgres_database("users") as url, AsyncExitStack() as stack:
        settings = UsersSettings(database_url=url, data_dir=tmp_path)
        bases = await asyncio.gather(
            *(stack.enter_async_context(serving(build_app(settings))) for _ in range(2))
        )
        apis = [Api(base) for base in bases]
        kids = {(await api.get("/auth/jwks"))[1]["keys"][0]["kid"] for api in apis}
        password = (tmp_path / "secrets" / "admin-password").read_text()
        listed = await apis[1].as_user(await login(apis[0], ADMIN_EMAIL, password)).get("/users")
        for api in apis:
            await api.close()
    assert len(kids) == 1
    assert [u["email"] for u in listed[1]] == [ADMIN_EMAIL]
