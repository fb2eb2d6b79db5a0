"""The one way a service calls another: discovery, a pooled aiohttp session and a
timeout on every call (3 s by default, as in the chapter).

    user = await client.get("users", f"/users/{user_id}", token=principal.token)
    if user.status == 404: ...

A call that cannot be answered (connection refused, timeout, the peer's 5xx)
raises `ServiceUnavailable`, which the app answers as a JSON 503.
"""

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import structlog

from microshop.chassis.errors import ServiceUnavailable

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class StaticDiscovery:
    """Service name -> base URL, from MICROSHOP_PEERS (the runtime or Compose sets it)."""

    def __init__(self, peers: dict[str, str]) -> None:
        self.peers = peers

    def resolve(self, service: str) -> str:
        try:
            return self.peers[service].rstrip("/")
        except KeyError:
            raise ServiceUnavailable(service) from None


class ServiceClient:
    def __init__(self, discovery: StaticDiscovery, timeout: float = 3.0, limit: int = 100) -> None:
        self.discovery = discovery
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit, ttl_dns_cache=300),
                timeout=self.timeout,
                json_serialize=lambda obj: orjson.dumps(obj).decode(),
            )
        return self._session

    async def request(
        self,
        method: str,
        service: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = self.discovery.resolve(service) + path
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if request_id := structlog.contextvars.get_contextvars().get("request_id"):
            all_headers.setdefault("X-Request-Id", request_id)
        try:
            async with self._http().request(method, url, json=json, headers=all_headers) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("peer call failed", peer=service, path=path, error=repr(exc))
            raise ServiceUnavailable(service) from exc
        if status >= 500:
            log.warning("peer answered an error", peer=service, path=path, status=status)
            raise ServiceUnavailable(service)
        return Reply(status, orjson.loads(raw) if raw else None)

    async def get(self, service: str, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", service, path, **kwargs)

    async def post(self, service: str, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", service, path, **kwargs)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
