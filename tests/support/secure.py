"""One service in the default (secure) mode beside the real users service, which
registers customers and signs their tokens."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from microshop.services.users.main import UsersSettings
from microshop.services.users.main import build_app as build_users
from tests.support.asgi import serving
from tests.support.http import Api

ADMIN_EMAIL = "admin@microshop.local"
ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "correct horse battery"


async def token(users: Api, email: str, password: str) -> str:
    status, reply = await users.post("/auth/token", {"email": email, "password": password})
    assert status == 200, reply
    return str(reply["access_token"])


@dataclass
class SecureService:
    users: Api
    service: Api  # without a token
    admin: Api  # the service, as the admin

    async def customer(self, name: str) -> tuple[int, Api]:
        """A registered customer's id and a client of the service carrying their token."""
        email = f"{name.lower()}@example.com"
        status, user = await self.users.post(
            "/users", {"name": name, "email": email, "password": PASSWORD}
        )
        assert status == 201, user
        return int(user["id"]), self.service.as_user(await token(self.users, email, PASSWORD))


@asynccontextmanager
async def beside_users(
    databases: Callable[[str], AbstractAsyncContextManager[str]],
    tmp_path: Path,
    name: str,
    build: Callable[[Any], FastAPI],
    settings: Callable[..., Any],
) -> AsyncIterator[SecureService]:
    async with AsyncExitStack() as stack:
        users_db = await stack.enter_async_context(databases("users"))
        users_url = await stack.enter_async_context(
            serving(
                build_users(
                    UsersSettings(
                        database_url=users_db, data_dir=tmp_path, admin_password=ADMIN_PASSWORD
                    )
                )
            )
        )
        service_db = await stack.enter_async_context(databases(name))
        service_url = await stack.enter_async_context(
            serving(
                build(
                    settings(database_url=service_db, data_dir=tmp_path, peers={"users": users_url})
                )
            )
        )
        users, service = Api(users_url), Api(service_url)
        stack.push_async_callback(users.close)
        stack.push_async_callback(service.close)
        admin = service.as_user(await token(users, ADMIN_EMAIL, ADMIN_PASSWORD))
        yield SecureService(users, service, admin)
