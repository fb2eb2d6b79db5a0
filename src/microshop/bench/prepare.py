"""Before a run: a product with stock enough for any run, and a pool of registered users
with real tokens, all made through the public API as a client would."""

import asyncio
import secrets
from typing import Any

import aiohttp
import orjson

from microshop.bench.scenarios import Flavour, Shop

# The users service's bootstrap admin (services/users/domain.py; bench imports no service).
ADMIN_EMAIL = "admin@microshop.local"
BENCH_STOCK = 1_000_000_000
# Cheap enough that the payment simulator never declines it as over its limit.
BENCH_PRICE = "1.00"
# Password hashing (argon2) is deliberately slow: register a few users at a time.
REGISTER_AT_ONCE = 4


class PreparationFailed(RuntimeError):
    pass


async def call_api(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    payload: Any = None,
    token: str | None = None,
    expect: int = 200,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with session.request(method, url, json=payload, headers=headers) as response:
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PreparationFailed(f"{method} {url} failed: {exc!r}") from exc
    if response.status != expect:
        raise PreparationFailed(f"{method} {url} answered {response.status}: {text[:500]}")
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise PreparationFailed(f"{method} {url} answered no JSON: {text[:500]}") from exc


async def login(session: aiohttp.ClientSession, url: str, email: str, password: str) -> str:
    credentials = {"email": email, "password": password}
    reply = await call_api(session, "POST", f"{url}/api/auth/token", credentials)
    return str(reply["access_token"])


async def admin_login(session: aiohttp.ClientSession, url: str, password: str | None) -> str:
    if password is None:
        raise PreparationFailed(
            "the admin password is unknown: set MICROSHOP_ADMIN_PASSWORD or give --data-dir"
        )
    return await login(session, url, ADMIN_EMAIL, password)


async def _register(
    session: aiohttp.ClientSession, url: str, tag: str, number: int, gate: asyncio.Semaphore
) -> str:
    email, password = f"bench-{tag}-{number}@example.com", f"bench-{tag}-pw-{number}"
    async with gate:
        user = {"name": f"Bench user {number}", "email": email, "password": password}
        await call_api(session, "POST", f"{url}/api/users", user, expect=201)
        return await login(session, url, email, password)


async def prepare_microshop(
    session: aiohttp.ClientSession,
    url: str,
    admin_password: str | None,
    users: int,
    checkout_wait_s: float,
) -> Shop:
    admin = await admin_login(session, url, admin_password)
    product = {"name": "Bench widget", "price": BENCH_PRICE, "stock": BENCH_STOCK}
    created = await call_api(session, "POST", f"{url}/api/products", product, admin, expect=201)
    tag, gate = secrets.token_hex(4), asyncio.Semaphore(REGISTER_AT_ONCE)
    tokens = await asyncio.gather(*(_register(session, url, tag, n, gate) for n in range(users)))
    return Shop(
        url,
        Flavour.MICROSHOP,
        tuple(tokens),
        int(created["id"]),
        checkout_wait_s=checkout_wait_s,
    )


def seed_shop(url: str) -> Shop:
    """The chapter's system needs no preparation beyond its smoke.sh (user 1)."""
    return Shop(url, Flavour.SEED)
