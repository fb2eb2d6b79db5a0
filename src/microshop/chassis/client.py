"""The one way a service calls another: discovery, a pooled aiohttp session, a
timeout on every call (3 s by default, as in the chapter), bounded retries with
jittered backoff for idempotent calls only (GET, or a request that carries an
Idempotency-Key), a circuit breaker per downstream, and a per-downstream
connection limit (bulkhead: a saturated peer makes callers wait at most the
timeout, never pile up without bound).

    user = await client.get("users", f"/users/{user_id}", token=principal.token)
    if user.status == 404: ...

A call that cannot be answered (connection refused, timeout, the peer's 5xx, an
open breaker) raises `Unavailable`, which the app answers as a JSON 503
with Retry-After.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import structlog

from microshop.chassis.backoff import backoff
from microshop.chassis.breaker import CircuitBreaker
from microshop.chassis.service_auth import HEADER, ServiceCredential
from microshop.contracts.errors import Unavailable

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
            raise Unavailable(service) from None


# Below uvicorn's keep-alive timeout (5 s): see ServiceClient._http.
IDLE_CONNECTION_SECONDS = 4.0


@dataclass(frozen=True)
class Resilience:
    timeout: float = 3.0
    retries: int = 2
    breaker_failures: int = 5
    breaker_reset: float = 60.0
    per_peer_connections: int = 100


class _PeerFailed(Exception):
    pass


class ServiceClient:
    def __init__(
        self,
        discovery: StaticDiscovery,
        policy: Resilience | None = None,
        credential: ServiceCredential | None = None,
    ) -> None:
        self.discovery = discovery
        # Every call carries this service's credential: /internal routes require it.
        self.credential = credential
        self.policy = policy or Resilience()
        self.timeout = aiohttp.ClientTimeout(total=self.policy.timeout)
        self.breakers: dict[str, CircuitBreaker] = {}
        self._session: aiohttp.ClientSession | None = None

    def breaker(self, service: str) -> CircuitBreaker:
        if service not in self.breakers:
            self.breakers[service] = CircuitBreaker(
                self.policy.breaker_failures, self.policy.breaker_reset
            )
        return self.breakers[service]

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=0,
                    limit_per_host=self.policy.per_peer_connections,
                    ttl_dns_cache=300,
                    # uvicorn closes an idle keep-alive connection after 5 s; reusing
                    # one it is closing gets "connection reset", so drop ours first.
                    keepalive_timeout=IDLE_CONNECTION_SECONDS,
                ),
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
        if self.credential is not None:
            all_headers[HEADER] = self.credential.token()
        if request_id := structlog.contextvars.get_contextvars().get("request_id"):
            all_headers.setdefault("X-Request-Id", request_id)
        idempotent = method in ("GET", "HEAD") or "Idempotency-Key" in all_headers
        attempts = 1 + (self.policy.retries if idempotent else 0)
        breaker = self.breaker(service)
        for attempt in range(1, attempts + 1):
            if not breaker.allow():
                raise Unavailable(service, retry_after=breaker.retry_after())
            try:
                reply = await self._once(method, url, json, all_headers, service, path)
            except _PeerFailed:
                breaker.record_failure()
                if attempt == attempts:
                    raise Unavailable(service, retry_after=breaker.retry_after()) from None
                await asyncio.sleep(backoff(attempt, base=0.2, jitter=True))
                continue
            breaker.record_success()
            return reply
        raise AssertionError("unreachable")

    async def _once(
        self, method: str, url: str, json: Any, headers: dict[str, str], service: str, path: str
    ) -> Reply:
        try:
            async with self._http().request(method, url, json=json, headers=headers) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("peer call failed", peer=service, path=path, error=repr(exc))
            raise _PeerFailed from exc
        if status >= 500:
            log.warning("peer answered an error", peer=service, path=path, status=status)
            raise _PeerFailed
        return Reply(status, orjson.loads(raw) if raw else None)

    async def get(self, service: str, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", service, path, **kwargs)

    async def post(self, service: str, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", service, path, **kwargs)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
