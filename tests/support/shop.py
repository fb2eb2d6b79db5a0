"""The shop for integration tests: the real users, catalog, orders, payments and
shipping apps over HTTP, each with its own database, wired as peers."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from microshop.chassis import ServiceSettings
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
from tests.support.asgi import free_port, serving
from tests.support.http import Api

ADMIN_EMAIL = "admin@microshop.local"
ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "correct horse battery"
LAPTOP = {"id": 1, "name": "Laptop", "price": 999.99}

DatabaseFactory = Callable[[str], AbstractAsyncContextManager[str]]


@dataclass
class Served:
    """One service's app served in this process; it can be stopped, as a crash or a
    deploy would, and started again on the same port with the same database."""

    build: Callable[[Any], FastAPI]
    settings: ServiceSettings
    port: int = field(default_factory=free_port)
    app: FastAPI | None = None
    _stack: AsyncExitStack | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        assert self._stack is None, "already running"
        self._stack = AsyncExitStack()
        self.app = self.build(self.settings)
        await self._stack.enter_async_context(serving(self.app, self.port))

    async def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()


@dataclass
class Shop:
    users: Api
    catalog: Api
    orders: Api
    payments: Api
    shipping: Api
    admin: Api
    # Service name -> base URL, as the orders service sees its peers.
    peers: dict[str, str]
    # The in-process services, by name (orders is absent when it runs elsewhere).
    services: dict[str, Served]

    async def stop_catalog(self) -> None:
        await self.services["catalog"].stop()

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
    yield f"sqlite:///{tmp_path / 'data' / f'{service}.db'}"


@asynccontextmanager
async def running_shop(
    backend: str,
    databases: DatabaseFactory,
    tmp_path: Path,
    *,
    open_mode: bool,
    orders_backend_only: bool = False,
    orders_url: str | None = None,
    payments_settings: dict[str, Any] | None = None,
    shipping_settings: dict[str, Any] | None = None,
    **orders_settings: Any,
) -> AsyncIterator[Shop]:
    """All five services; with `orders_backend_only` only orders uses `databases`
    (MariaDB runs) and its peers stay on SQLite. With `orders_url` orders is not
    served here: the test runs it elsewhere (a real process) at that URL."""

    def database(service: str) -> AbstractAsyncContextManager[str]:
        if orders_backend_only and service != "orders":
            return _sqlite(tmp_path, service)
        return databases(service)

    common: dict[str, Any] = {"data_dir": tmp_path, "open_mode": open_mode}
    services: dict[str, Served] = {}
    async with AsyncExitStack() as stack:

        async def serve(name: str, build: Any, settings_type: Any, **settings: Any) -> str:
            url = await stack.enter_async_context(database(name))
            served = Served(build, settings_type(database_url=url, **common, **settings))
            await served.start()
            stack.push_async_callback(served.stop)
            services[name] = served
            return served.url

        peers = {
            "users": await serve("users", build_users, UsersSettings, admin_password=ADMIN_PASSWORD)
        }
        peers["catalog"] = await serve("catalog", build_catalog, CatalogSettings, peers=peers)
        peers["payments"] = await serve(
            "payments", build_payments, PaymentsSettings, peers=peers, **(payments_settings or {})
        )
        peers["shipping"] = await serve(
            "shipping", build_shipping, ShippingSettings, peers=peers, **(shipping_settings or {})
        )
        if orders_url is None:
            orders_url = await serve(
                "orders",
                build_orders,
                OrdersSettings,
                peers=dict(peers),
                **({"saga_sweep_every": 0.5} | orders_settings),
            )
        apis = [Api(peers[name]) for name in ("users", "catalog", "payments", "shipping")]
        apis.append(Api(orders_url))
        for api in apis:
            stack.push_async_callback(api.close)
        users, catalog, payments, shipping, orders = apis
        shop = Shop(users, catalog, orders, payments, shipping, orders, dict(peers), services)
        if not open_mode:
            token = await shop.token(ADMIN_EMAIL, ADMIN_PASSWORD)
            shop.admin = orders.as_user(token)
            shop.catalog = catalog.as_user(token)
            shop.payments = payments.as_user(token)
            shop.shipping = shipping.as_user(token)
        yield shop
