"""`/internal/drain`: how the supervisor takes one instance out of service before
stopping it (`microshop scale catalog=1`): it leaves the registry and fails its
readiness check at once, then finishes what it has in flight."""

from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis.lean import LeanRoutes, reply

routes = LeanRoutes("/internal/drain")


@routes.post("")
async def drain(request: Request) -> Response:
    await request.app.state.presence.drain()
    return reply({"draining": True})
