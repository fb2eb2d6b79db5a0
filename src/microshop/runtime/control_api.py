"""The supervisor's control API: how `microshop scale` and `microshop chaos` reach a
running system. It listens on loopback only, its address is in state.json, and a
call must carry the operator credential (the system's service key signs it).

    GET  /instances                      every instance: service, port, pid, held
    POST /scale  {"service": "catalog", "replicas": 3}
    POST /chaos  {"action": "kill|stop|start|pause", "target": "catalog/2", "seconds": 10}
"""

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from microshop.chassis.service_auth import HEADER, ServiceCredential
from microshop.contracts.errors import Unauthorized
from microshop.runtime.replicas import UnknownTarget

CHAOS_ACTIONS = ("kill", "stop", "start", "pause")
MAX_PAUSE_S = 300.0


class Controlled(Protocol):
    def instance_table(self) -> list[dict[str, Any]]: ...
    async def scale(self, service: str, replicas: int) -> str: ...
    async def chaos(self, action: str, target: str, seconds: float) -> str: ...


def _refusal(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def control_app(system: Controlled, credential: ServiceCredential) -> web.Application:
    @web.middleware
    async def checked(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            credential.verify(request.headers.get(HEADER))
        except Unauthorized as exc:
            return _refusal(401, exc.message)
        try:
            return await handler(request)
        except (UnknownTarget, ValueError) as exc:
            return _refusal(400, str(exc))

    async def instances(_: web.Request) -> web.Response:
        return web.json_response(system.instance_table())

    async def scale(request: web.Request) -> web.Response:
        body = await request.json()
        service, replicas = body.get("service"), body.get("replicas")
        if not isinstance(service, str) or not isinstance(replicas, int):
            return _refusal(400, 'give {"service": "<name>", "replicas": <count>}')
        return web.json_response({"message": await system.scale(service, replicas)})

    async def chaos(request: web.Request) -> web.Response:
        body = await request.json()
        action, target = body.get("action"), body.get("target")
        seconds = float(body.get("seconds") or 10.0)
        if action not in CHAOS_ACTIONS or not isinstance(target, str):
            return _refusal(400, f"action is one of {', '.join(CHAOS_ACTIONS)}, with a target")
        if not 0 < seconds <= MAX_PAUSE_S:
            return _refusal(400, f"seconds must be in (0, {MAX_PAUSE_S:g}]")
        return web.json_response({"message": await system.chaos(action, target, seconds)})

    app = web.Application(middlewares=[checked])
    app.router.add_get("/instances", instances)
    app.router.add_post("/scale", scale)
    app.router.add_post("/chaos", chaos)
    return app
