"""The shop for integration tests: the real users, catalog, orders, payments and
shipping apps over HTTP, each with its own database, wired as peers."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microshop.services.catalog.main import CatalogSettings
from microshop.services.catalog.main import build_app as build_catalog
from microshop.services.orders.main import OrdersSettings
from microshop.services.orders.main import build_app as build_orders
from microshop.services.payments.main import PaymentsSettings
from microshop.services.payments.main import build_app as build_payments
from microshop.services.shipping.main import ShippingSettings
from microshop.services.shipping.main import build_app as build_shipping
from microshop.services.users.main import UsersSettings
from microshop.services.users.main import build_app as build_users
from tests.support.asgi import serving
from tests.support.http import Api

ADMIN_EMAIL = "admin@microshop.local"
ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "correct horse battery"
LAPTOP = {"id": 1, "name": "Laptop", "price": 999.99}

DatabaseFactory = Callable[[str], AbstractAsyncContextManager[str]]


@dataclass
class Shop:
    users: Api
    catalog: Api
    orders: Api
    payments: Api
    shipping: Api
    # Stops the catalog service mid-test, as a crash or a deploy would.
    stop_catalog: Callable[[], Awaitable[Any]]
    admin: Api

    async def all_orders(self) -> list[dict[str, Any]]:
        status, orders = await self.admin.get("/orders")
        assert status == 200
        return list(orders)

    async def customer(self, name: str) -> tuple[dict[str, Any], Api]:
        """A registered customer and an orders client that carries their token."""
        email = f"{name.lower()}@example.com"
        status, user = await self.users.post(
            "/users", {"name": name, "email": email, "password": PASSWORD}
        )
        assert status == 201, user
        return user, self.orders.as_user(await self.token(email, PASSWORD))

    async def token(self, email: str, password: str) -> str:
        status, reply = await self.users.post("/auth/token", {"email": email, "password": password})
        assert status == 200, reply
        return str(reply["access_token"])

    async def final(self, order_id: int, timeout: float = 20.0) -> dict[str, Any]:
        """The order once its saga has finished."""
        for _ in range(int(timeout / 0.05)):
            status, order = await self.admin.get(f"/orders/{order_id}")
            assert status == 200, order
            if order["saga"]["phase"] == "done":
                return dict(order)
            await asyncio.sleep(0.05)
        raise AssertionError(f"order {order_id} did not finish: {order}")

    async def stock(self, product_id: int) -> int:
        return int((await self.catalog.get(f"/products/{product_id}"))[1]["stock"])


@asynccontextmanager
async def _sqlite(tmp_path: Path, service: str) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path / 'data' / f'{service}.db'}"


@asynccontextmanager
async def running_shop(
    backend: str,
    databases: DatabaseFactory,
    tmp_path: Path,
    *,
    open_mode: bool,
    orders_backend_only: bool = False,
    **orders_settings: Any,
) -> AsyncIterator[Shop]:
    """All five services; with `orders_backend_only` only orders uses `databases`
    (MariaDB runs) and its peers stay on SQLite."""

    def database(service: str) -> AbstractAsyncContextManager[str]:
        if orders_backend_only and service != "orders":
            return _sqlite(tmp_path, service)
        return databases(service)

    common: dict[str, Any] = {"data_dir": tmp_path, "open_mode": open_mode}
    async with AsyncExitStack() as stack:

        async def serve(build: Any, settings: Any, on: AsyncExitStack = stack) -> str:
            return await on.enter_async_context(serving(build(settings)))

        users_url = await serve(
            build_users,
            UsersSettings(
                database_url=await stack.enter_async_context(database("users")),
                admin_password=ADMIN_PASSWORD,
                **common,
            ),
        )
        peers = {"users": users_url}
        catalog_stack = AsyncExitStack()
        stack.push_async_callback(catalog_stack.aclose)
        catalog_url = await serve(
            build_catalog,
            CatalogSettings(
                database_url=await catalog_stack.enter_async_context(database("catalog")),
                peers=peers,
                **common,
            ),
            catalog_stack,
        )
        payments_url = await serve(
            build_payments,
            PaymentsSettings(
                database_url=await stack.enter_async_context(database("payments")),
                peers=peers,
                **common,
            ),
        )
        shipping_url = await serve(
            build_shipping,
            ShippingSettings(
                database_url=await stack.enter_async_context(database("shipping")),
                peers=peers,
                **common,
            ),
        )
        peers |= {"catalog": catalog_url, "payments": payments_url, "shipping": shipping_url}
        orders_url = await serve(
            build_orders,
            OrdersSettings(
                database_url=await stack.enter_async_context(database("orders")),
                peers=peers,
                saga_sweep_every=0.5,
                **common,
                **orders_settings,
            ),
        )
        apis = [
            Api(url) for url in (users_url, catalog_url, orders_url, payments_url, shipping_url)
        ]
        for api in apis:
            stack.push_async_callback(api.close)
        users, catalog, orders, payments, shipping = apis
        shop = Shop(users, catalog, orders, payments, shipping, catalog_stack.aclose, orders)
        if not open_mode:
            token = await shop.token(ADMIN_EMAIL, ADMIN_PASSWORD)
            shop.admin = orders.as_user(token)
            shop.catalog = catalog.as_user(token)
            shop.payments = payments.as_user(token)
            shop.shipping = shipping.as_user(token)
        yield shop
