"""The registry in Consul, through its documented agent and health HTTP API.

    registry = ConsulRegistry("http://127.0.0.1:8500", ttl=10)
    await registry.register(Instance.new("orders", "127.0.0.1", 8003))

Written from Consul's API documentation and tested only against the small server
in tests/support/consul_api.py that implements those endpoints: it has not been
run against a real Consul (none can be installed here).

- register: `PUT /v1/agent/service/register` with one TTL check (its id is then
  `service:<instance>`), starting as passing, and `DeregisterCriticalServiceAfter`
  so the agent reaps an instance that died without deregistering;
- heartbeat: `PUT /v1/agent/check/pass/service:<instance>?note=served=<n>` (the
  note becomes the check's Output, which is where `served` travels);
- deregister: `PUT /v1/agent/service/deregister/<instance>`;
- list: `GET /v1/health/service/<name>?passing`, and `GET /v1/catalog/services`
  for the names;
- watch one service: blocking queries (`?index=<X-Consul-Index>&wait=`); watch all:
  a poll every second (the catalog's index does not move when a check fails).

A real agent syncs check output alone to the servers only every
`check_update_interval` (5 minutes by default), so `served` read through another
agent may lag; health changes are synced at once.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp
import structlog

from microshop.chassis.backoff import backoff
from microshop.chassis.registry.model import (
    TTL_S,
    Instance,
    NotRegistered,
    RegistryError,
    membership,
    ordered,
)

log = structlog.get_logger()

REQUEST_TIMEOUT_S = 3.0
# A blocking query waits at most this long; the HTTP timeout is above it.
BLOCKING_WAIT_S = 10
POLL_S = 1.0
# Consul's docs ask clients to pace blocking queries; this keeps a hot loop cool
# without delaying an expiry noticeably.
MIN_QUERY_GAP_S = 0.2
# Consul's minimum for DeregisterCriticalServiceAfter.
DEREGISTER_AFTER = "1m"


def go_duration(seconds: float) -> str:
    """Seconds as a Go duration string, the form Consul reads ("10s", "500ms")."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000)}ms"


class ConsulRegistry:
    def __init__(
        self,
        base_url: str,
        *,
        ttl: float = TTL_S,
        deregister_after: str = DEREGISTER_AFTER,
    ) -> None:
        self.base_url, self.ttl, self.deregister_after = base_url.rstrip("/"), ttl, deregister_after
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
            )
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        timeout: float = REQUEST_TIMEOUT_S,
    ) -> tuple[int, Any, int]:
        """(status, decoded body or text, X-Consul-Index or 0)."""
        try:
            async with self._http().request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                body: Any = await resp.text()
                if resp.content_type == "application/json" and body:
                    body = await resp.json()
                index = int(resp.headers.get("X-Consul-Index", "0") or 0)
                return resp.status, body, index
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RegistryError(f"consul at {self.base_url}: {exc!r}") from exc

    async def _put(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, body, _ = await self._request("PUT", path, **kwargs)
        return status, body

    # -- the contract -----------------------------------------------------------

    async def register(self, instance: Instance) -> None:
        payload = {
            "ID": instance.instance,
            "Name": instance.service,
            "Address": instance.address,
            "Port": instance.port,
            # Meta values are strings in Consul.
            "Meta": {
                "version": instance.version,
                "started": repr(instance.started),
                "health": instance.health,
                "scheme": instance.scheme,
                "served": str(instance.served),
            },
            "Check": {
                "TTL": go_duration(self.ttl),
                "Status": "passing",
                "DeregisterCriticalServiceAfter": self.deregister_after,
            },
        }
        status, body = await self._put("/v1/agent/service/register", json=payload)
        if status != 200:
            raise RegistryError(f"consul refused the registration: {status} {body}")

    async def heartbeat(self, instance: Instance) -> None:
        status, body = await self._put(
            f"/v1/agent/check/pass/service:{instance.instance}",
            params={"note": f"served={instance.served}"},
        )
        # 404 "Unknown check ID" (older agents: 500 with the same text): the agent
        # restarted without our registration, or reaped it.
        if status == 404 or (status == 500 and "nknown check" in str(body)):
            raise NotRegistered(instance.instance)
        if status != 200:
            raise RegistryError(f"consul refused the heartbeat: {status} {body}")

    async def deregister(self, instance: Instance) -> None:
        status, body = await self._put(f"/v1/agent/service/deregister/{instance.instance}")
        if status not in (200, 404):
            raise RegistryError(f"consul refused the deregistration: {status} {body}")

    async def instances(self, service: str | None = None) -> list[Instance]:
        if service is not None:
            return (await self._service(service, None))[0]
        status, names, _ = await self._request("GET", "/v1/catalog/services")
        if status != 200 or not isinstance(names, dict):
            raise RegistryError(f"consul catalog: {status} {names}")
        # Consul lists itself as a service; it has no instance of ours.
        lists = await asyncio.gather(*(self._service(n, None) for n in names if n != "consul"))
        return ordered(i for found, _ in lists for i in found)

    async def _service(self, service: str, index: int | None) -> tuple[list[Instance], int]:
        params = {"passing": ""}  # `?passing`, as the docs write it
        timeout = REQUEST_TIMEOUT_S
        if index:
            params |= {"index": str(index), "wait": f"{BLOCKING_WAIT_S}s"}
            # Consul adds up to wait/16 of jitter to the wait.
            timeout += BLOCKING_WAIT_S * 1.1
        status, entries, new_index = await self._request(
            "GET", f"/v1/health/service/{service}", params=params, timeout=timeout
        )
        if status != 200 or not isinstance(entries, list):
            raise RegistryError(f"consul health of {service}: {status} {entries}")
        return ordered(_instance(e) for e in entries), new_index

    async def watch(self, service: str | None = None) -> AsyncGenerator[list[Instance], None]:
        shown: list[Instance] | None = None
        index, failures = 0, 0
        while True:
            started = asyncio.get_running_loop().time()
            try:
                if service is None:
                    live = await self.instances()
                else:
                    live, new_index = await self._service(service, index)
                    # Consul's rules: start over if the index goes backwards, and
                    # never block on 0 (it would return at once, forever).
                    index = max(new_index, 1) if new_index >= index else 0
                failures = 0
            except RegistryError as exc:
                # Keep the last list while Consul is away: callers keep their table.
                failures += 1
                index = 0
                log.warning("registry watch failed", error=str(exc))
                await asyncio.sleep(backoff(failures, cap=self.ttl / 2, jitter=True))
                continue
            if shown is None or membership(live) != membership(shown):
                shown = live
                yield live
            gap = POLL_S if service is None else MIN_QUERY_GAP_S
            elapsed = asyncio.get_running_loop().time() - started
            await asyncio.sleep(max(gap - elapsed, 0.0))

    async def close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
        self._session = None


def _instance(entry: dict[str, Any]) -> Instance:
    service = entry["Service"]
    meta: dict[str, str] = service.get("Meta") or {}
    served = int(meta.get("served", "0") or 0)
    for check in entry.get("Checks") or []:
        output = str(check.get("Output") or "")
        if check.get("ServiceID") == service["ID"] and output.startswith("served="):
            with contextlib.suppress(ValueError):
                served = int(output.removeprefix("served="))
    return Instance(
        service=service["Service"],
        instance=service["ID"],
        # An empty service address means "the node's address" in Consul.
        address=service.get("Address") or entry["Node"]["Address"],
        port=int(service["Port"]),
        health=meta.get("health", "/health/ready"),
        version=meta.get("version", ""),
        started=float(meta.get("started", "0") or 0),
        served=served,
        scheme=meta.get("scheme", "http"),
    )
