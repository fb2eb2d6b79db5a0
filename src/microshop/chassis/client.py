"""The one way a service calls another: discovery, pooled keep-alive connections
(http_pool.py), a timeout on every call (3 s by default, as in the chapter), bounded retries with
jittered backoff for idempotent calls only (GET, or a request that carries an
Idempotency-Key), a circuit breaker per downstream service (fed by the failures of
its last usable instance: a failing instance is ejected first), and a per-downstream
connection limit (bulkhead: a saturated peer makes callers wait at most the
timeout, never pile up without bound).

    user = await client.get("users", f"/users/{user_id}", token=principal.token)
    if user.status == 404: ...

Each call is a client span of the current trace (its `traceparent` goes with
it) and is counted and timed per peer and outcome (chassis/metrics.py).

A call that cannot be answered (connection refused, timeout, the peer's 5xx, an
open breaker) raises `Unavailable`, which the app answers as a JSON 503
with Retry-After.
"""

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
import structlog

from microshop.chassis import metrics, tracing
from microshop.chassis.backoff import backoff
from microshop.chassis.breaker import CircuitBreaker
from microshop.chassis.discovery import Discovery
from microshop.chassis.http_pool import HttpPool, NeverArrived, RequestFailed
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


# Below uvicorn's keep-alive timeout (5 s): see HttpPool.
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


class _NeverArrived(_PeerFailed):
    """The connection could not be made: the request never reached the instance,
    so sending it to another one is safe whatever its method."""


# An instance that failed this many calls in a row is passed over for a while.
EJECT_AFTER_FAILURES = 3
EJECT_FOR_S = 10.0


class ServiceClient:
    def __init__(
        self,
        discovery: Discovery,
        policy: Resilience | None = None,
        credential: ServiceCredential | None = None,
        tracer: tracing.Tracer | None = None,
    ) -> None:
        self.discovery = discovery
        # Read when a call is made: the app configures its tracer after making us.
        self.tracer = tracer or tracing.default_tracer()
        # Every call carries this service's credential: /internal routes require it.
        self.credential = credential
        self.policy = policy or Resilience()
        self.breakers: dict[str, CircuitBreaker] = {}
        self._pool = HttpPool(self.policy.per_peer_connections, IDLE_CONNECTION_SECONDS)
        # Per instance (base URL): calls in flight, failures in a row, ejected until.
        self._outstanding: dict[str, int] = defaultdict(int)
        self._failures: dict[str, int] = defaultdict(int)
        self._ejected_until: dict[str, float] = {}
        metrics.watch_breakers(self)

    @property
    def breaker_states(self) -> dict[str, str]:
        """Each downstream's breaker: closed, half_open or open."""
        return {peer: str(breaker.state) for peer, breaker in self.breakers.items()}

    def choose(self, service: str, avoid: frozenset[str] = frozenset()) -> str:
        """One live instance of `service`: the less busy of two picked at random
        (power of two choices), skipping ejected ones unless nothing else is left."""
        urls = self.discovery.endpoints(service)
        if not urls:
            raise Unavailable(service)
        now = time.monotonic()
        usable = [u for u in urls if u not in avoid and self._ejected_until.get(u, 0) <= now]
        usable = usable or [u for u in urls if u not in avoid] or urls
        if len(usable) == 1:
            return usable[0]
        a, b = random.sample(usable, 2)
        return a if self._outstanding[a] <= self._outstanding[b] else b

    def _others_usable(self, service: str, url: str) -> bool:
        now = time.monotonic()
        return any(
            u != url and self._ejected_until.get(u, 0) <= now
            for u in self.discovery.endpoints(service)
        )

    def _record(self, url: str, failed: bool) -> None:
        if not failed:
            self._failures.pop(url, None)
            return
        self._failures[url] += 1
        if self._failures[url] >= EJECT_AFTER_FAILURES:
            self._ejected_until[url] = time.monotonic() + EJECT_FOR_S
            self._failures[url] = 0

    def breaker(self, service: str) -> CircuitBreaker:
        if service not in self.breakers:
            self.breakers[service] = CircuitBreaker(
                self.policy.breaker_failures, self.policy.breaker_reset
            )
        return self.breakers[service]

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
        span = self.tracer.start(f"{method} {service}", tracing.CLIENT)
        span.attributes["url.path"] = path
        span.attributes["peer.service"] = service
        began = time.perf_counter()
        outcome = "unavailable"
        try:
            reply = await self._request(method, service, path, json, token, headers, span)
            outcome = metrics.outcome_of(reply.status)
            span.attributes["http.response.status_code"] = reply.status
            return reply
        except Unavailable as exc:
            # Refused at once by an open breaker, or no answer after the retries.
            outcome = "breaker_open" if self.breaker(service).state == "open" else "unavailable"
            span.fail(exc.message)
            raise
        finally:
            metrics.observe_call(service, method, outcome, time.perf_counter() - began)
            self.tracer.finish(span)

    async def _request(
        self,
        method: str,
        service: str,
        path: str,
        json: Any,
        token: str | None,
        headers: dict[str, str] | None,
        span: tracing.Span,
    ) -> Reply:
        all_headers = dict(headers or {})
        all_headers["traceparent"] = span.traceparent
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if self.credential is not None:
            all_headers[HEADER] = self.credential.token()
        if request_id := structlog.contextvars.get_contextvars().get("request_id"):
            all_headers.setdefault("X-Request-Id", request_id)
        idempotent = method in ("GET", "HEAD") or "Idempotency-Key" in all_headers
        attempts = 1 + (self.policy.retries if idempotent else 0)
        breaker = self.breaker(service)
        loop = asyncio.get_running_loop()
        # One deadline for the whole call, retries included: a caller answers at its
        # timeout, never later, however slow the peer.
        deadline = loop.time() + self.policy.timeout
        avoid: frozenset[str] = frozenset()
        attempt = 0
        while True:
            if not breaker.allow():
                raise Unavailable(service, retry_after=breaker.retry_after())
            url = self.choose(service, avoid)
            try:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise _PeerFailed
                reply = await self._once(method, url, path, json, all_headers, service, remaining)
            except _PeerFailed as failure:
                self._record(url, failed=True)
                if (
                    isinstance(failure, _NeverArrived)
                    and not avoid
                    and len(self.discovery.endpoints(service)) > 1
                ):
                    # Safe for any method: the request never arrived. Once per call.
                    avoid = frozenset({url})
                    continue
                if not self._others_usable(service, url):
                    # The breaker speaks for the whole service: one failing instance
                    # (a host cut off, say) is ejected; the others keep serving.
                    breaker.record_failure()
                attempt += 1
                if attempt >= attempts or deadline - loop.time() <= 0:
                    raise Unavailable(service, retry_after=breaker.retry_after()) from None
                await asyncio.sleep(backoff(attempt, base=0.2, jitter=True))
                continue
            self._record(url, failed=False)
            breaker.record_success()
            return reply

    async def _once(
        self,
        method: str,
        instance: str,
        path: str,
        json: Any,
        headers: dict[str, str],
        service: str,
        timeout: float,
    ) -> Reply:
        self._outstanding[instance] += 1
        try:
            async with asyncio.timeout(timeout):
                status, raw = await self._pool.request(
                    instance,
                    method,
                    path,
                    None if json is None else orjson.dumps(json),
                    {**headers, "Content-Type": "application/json"}
                    if json is not None
                    else headers,
                )
        except NeverArrived as exc:
            log.warning("peer unreachable", peer=service, instance=instance, error=str(exc))
            raise _NeverArrived from exc
        except (RequestFailed, TimeoutError) as exc:
            log.warning("peer call failed", peer=service, instance=instance, error=repr(exc))
            raise _PeerFailed from exc
        finally:
            self._outstanding[instance] -= 1
        if status >= 500:
            log.warning("peer answered an error", peer=service, instance=instance, status=status)
            raise _PeerFailed
        try:
            return Reply(status, orjson.loads(raw) if raw else None)
        except orjson.JSONDecodeError as exc:
            log.warning("peer answered no JSON", peer=service, instance=instance, status=status)
            raise _PeerFailed from exc

    async def get(self, service: str, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", service, path, **kwargs)

    async def post(self, service: str, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", service, path, **kwargs)

    async def close(self) -> None:
        self._pool.close()
