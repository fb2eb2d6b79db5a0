"""A tiny HTTP client for tests: every call returns (status, parsed JSON body)."""

import os
from typing import Any

import aiohttp

from microshop.chassis.client import IDLE_CONNECTION_SECONDS
from microshop.chassis.service_auth import HEADER, ServiceCredential

# The tests' client calls /internal routes as a service would (tests/conftest.py).
_AS_A_SERVICE = ServiceCredential(os.environ.get("MICROSHOP_SERVICE_KEY", "").encode(), "tests")


class Api:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=15),
            # Idle connections go before uvicorn's 5 s keep-alive closes them under us.
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS),
        )

    def as_user(self, token: str | None) -> "Api":
        other = Api.__new__(Api)
        other.base_url, other.token, other._session = self.base_url, token, self._session
        return other

    async def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        all_headers = dict(headers or {})
        if path.startswith("/internal") and HEADER not in all_headers:
            all_headers[HEADER] = _AS_A_SERVICE.token()
        if self.token:
            all_headers.setdefault("Authorization", f"Bearer {self.token}")
        async with self._session.request(
            method, self.base_url + path, json=json, data=data, headers=all_headers
        ) as resp:
            text = await resp.text()
            try:
                body = await resp.json(content_type=None) if text else None
            except ValueError:
                body = text
            self.last_headers = resp.headers
            return resp.status, body

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("POST", path, json, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("PATCH", path, json, **kw)

    async def close(self) -> None:
        await self._session.close()
