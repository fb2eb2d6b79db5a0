"""A small server speaking the part of Consul's HTTP API the registry uses, as
Consul documents it (no real Consul can be installed here):

- `PUT /v1/agent/service/register` (Name, ID, Address, Port, Meta, Check/Checks
  with TTL, Status and DeregisterCriticalServiceAfter; a single check's id is
  `service:<id>`, several are `service:<id>:<n>`);
- `PUT /v1/agent/service/deregister/<id>`;
- `PUT /v1/agent/check/pass/<check_id>?note=` (404 `Unknown check ID` when unknown);
- `GET /v1/health/service/<name>[?passing]` and `GET /v1/catalog/services`, both
  blocking queries (`?index=&wait=`, `X-Consul-Index`).

A TTL check not passed within its TTL goes critical, and an instance critical for
longer than DeregisterCriticalServiceAfter is reaped, as an agent does.

    api = ConsulApi()
    url = await api.start()        # http://127.0.0.1:<port>
    await api.stop()               # an agent restart: start() again forgets everything
"""

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.support.asgi import free_port

NODE = {
    "ID": "40e4a748-2192-161a-0510-9bf59fe950b5",
    "Node": "microshop-test",
    "Address": "127.0.0.1",
    "Datacenter": "dc1",
    "TaggedAddresses": {"lan": "127.0.0.1", "wan": "127.0.0.1"},
    "Meta": {},
}
SERF_HEALTH = {
    "Node": "microshop-test",
    "CheckID": "serfHealth",
    "Name": "Serf Health Status",
    "Status": "passing",
    "Notes": "",
    "Output": "Agent alive and reachable",
    "ServiceID": "",
    "ServiceName": "",
    "ServiceTags": [],
}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def duration(text: str) -> float:
    """A Go duration ("10s", "1m30s", "500ms") in seconds."""
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def field(data: dict[str, Any], name: str, default: Any = None) -> Any:
    """Consul reads PascalCase and (on this endpoint) snake_case keys alike."""
    wanted = name.lower()
    for key, value in data.items():
        if key.replace("_", "").lower() == wanted:
            return value
    return default


@dataclass
class Check:
    check_id: str
    service_id: str
    service_name: str
    ttl: float
    status: str
    deregister_after: float | None
    output: str = ""
    deadline: float = 0.0
    critical_since: float | None = None

    def view(self, tags: list[str]) -> dict[str, Any]:
        return {
            "Node": NODE["Node"],
            "CheckID": self.check_id,
            "Name": f"Service '{self.service_name}' check",
            "Status": self.status,
            "Notes": "",
            "Output": self.output,
            "ServiceID": self.service_id,
            "ServiceName": self.service_name,
            "ServiceTags": tags,
            "Type": "ttl",
        }


class ConsulApi:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.services: dict[str, dict[str, Any]] = {}
        self.checks: dict[str, Check] = {}
        self.index = 1
        self.requests: list[str] = []  # "METHOD path", for tests that look
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._reaper: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        self.services, self.checks, self.index = {}, {}, self.index + 1
        self._changed = asyncio.Condition()
        app = web.Application(middlewares=[self._log])
        app.router.add_put("/v1/agent/service/register", self._register)
        app.router.add_put("/v1/agent/service/deregister/{id}", self._deregister)
        app.router.add_put("/v1/agent/check/pass/{check_id}", self._pass)
        app.router.add_get("/v1/health/service/{name}", self._health)
        app.router.add_get("/v1/catalog/services", self._catalog)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._reaper = asyncio.create_task(self._reap())
        return self.url

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await self._bump()  # wake blocked queries so shutdown does not wait on them
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._reaper = None

    @web.middleware
    async def _log(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        response: web.StreamResponse = await handler(request)
        return response

    async def _bump(self) -> None:
        self.index += 1
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            now, changed = time.monotonic(), False
            for check in list(self.checks.values()):
                if check.status != "critical" and now > check.deadline:
                    check.status, check.output = "critical", "TTL expired"
                    check.critical_since, changed = now, True
                after = check.deregister_after
                since = check.critical_since
                if check.status == "critical" and after and since and now - since > after:
                    self._drop(check.service_id)
                    changed = True
            if changed:
                await self._bump()

    def _drop(self, service_id: str) -> bool:
        found = self.services.pop(service_id, None) is not None
        for check_id in [c for c, k in self.checks.items() if k.service_id == service_id]:
            del self.checks[check_id]
        return found

    # -- agent endpoints --------------------------------------------------------

    async def _register(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = field(body, "Name")
        if not name:
            return web.Response(status=400, text="Missing service name")
        service_id = field(body, "ID") or name
        self._drop(service_id)
        self.services[service_id] = {
            "ID": service_id,
            "Service": name,
            "Tags": field(body, "Tags") or [],
            "Address": field(body, "Address") or "",
            "Meta": field(body, "Meta") or {},
            "Port": int(field(body, "Port", 0)),
            "Weights": {"Passing": 1, "Warning": 1},
        }
        definitions = [field(body, "Check")] if field(body, "Check") else []
        definitions += field(body, "Checks") or []
        for n, definition in enumerate(definitions, start=1):
            if field(definition, "TTL") is None:
                return web.Response(status=400, text="only TTL checks are implemented here")
            default_id = f"service:{service_id}" + (f":{n}" if len(definitions) > 1 else "")
            after = field(definition, "DeregisterCriticalServiceAfter")
            check = Check(
                check_id=field(definition, "CheckID") or default_id,
                service_id=service_id,
                service_name=name,
                ttl=duration(field(definition, "TTL")),
                status=field(definition, "Status") or "critical",  # Consul's default
                deregister_after=duration(after) if after else None,
            )
            check.deadline = time.monotonic() + check.ttl
            if check.status == "critical":
                check.critical_since = time.monotonic()
            self.checks[check.check_id] = check
        await self._bump()
        return web.Response(status=200)

    async def _deregister(self, request: web.Request) -> web.Response:
        # "If the service does not exist, no action is taken."
        if self._drop(request.match_info["id"]):
            await self._bump()
        return web.Response(status=200)

    async def _pass(self, request: web.Request) -> web.Response:
        check_id = request.match_info["check_id"]
        check = self.checks.get(check_id)
        if check is None:
            text = f'Unknown check ID "{check_id}". Ensure that the check ID is passed, not the check name.'
            return web.Response(status=404, text=text)
        was = check.status
        check.status, check.output = "passing", request.query.get("note", "")
        check.deadline, check.critical_since = time.monotonic() + check.ttl, None
        if was != "passing":
            await self._bump()
        return web.Response(status=200)

    # -- catalog and health (blocking queries) ----------------------------------

    async def _block(self, request: web.Request) -> None:
        """Waits while `?index=` is current, at most `?wait=` (default 5m, max 10m)."""
        if "index" not in request.query or self._changed is None:
            return
        seen = int(request.query["index"])
        wait = min(duration(request.query.get("wait", "5m")), 600.0)
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self.index > seen), wait)

    def _reply(self, body: Any) -> web.Response:
        return web.json_response(body, headers={"X-Consul-Index": str(self.index)})

    async def _health(self, request: web.Request) -> web.Response:
        await self._block(request)
        name = request.match_info["name"]
        entries = []
        for service in self.services.values():
            if service["Service"] != name:
                continue
            checks = [SERF_HEALTH] + [
                c.view(service["Tags"])
                for c in self.checks.values()
                if c.service_id == service["ID"]
            ]
            # `?passing` (a bool: present, or true) keeps nodes whose every check passes.
            passing_only = request.query.get("passing", "missing") in ("", "true", "1")
            if passing_only and any(c["Status"] != "passing" for c in checks):
                continue
            entries.append({"Node": NODE, "Service": service, "Checks": checks})
        return self._reply(entries)

    async def _catalog(self, request: web.Request) -> web.Response:
        await self._block(request)
        names: dict[str, list[str]] = {"consul": []}
        for service in self.services.values():
            names.setdefault(service["Service"], []).extend(service["Tags"])
        return self._reply(names)
