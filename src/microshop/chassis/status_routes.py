"""`/internal/status`: what the ops console shows of one instance that only the
instance knows: its breakers, its outbox, its injected faults, its spans.

GET /internal/status
    {"service": "orders", "instance": "orders-1", "served": 1234,
     "breakers": {"catalog": "open"}, "outbox": {"backlog": 0, "oldest_age_s": 0.0},
     "faults": {"delay_ms": 0, "fail_percent": 0}, "spans": {"sent": 80, "dropped": 0}}
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis import faults
from microshop.chassis.lean import LeanRoutes, reply

routes = LeanRoutes("/internal/status")


@routes.get("")
async def status(request: Request) -> Response:
    state = request.app.state
    telemetry = request.app.telemetry
    events = state.events
    outbox: dict[str, Any] = {"backlog": 0, "oldest_age_s": 0.0}
    if events is not None:
        outbox = {"backlog": events.relay.backlog, "oldest_age_s": events.relay.oldest_age_s}
    exporter = telemetry.exporter
    now = faults.http_faults()
    return reply(
        {
            "service": state.service,
            "instance": telemetry.instance,
            "served": request.app.served(),
            "breakers": state.client.breaker_states,
            "outbox": outbox,
            "faults": {"delay_ms": now.delay_ms, "fail_percent": now.fail_percent},
            "spans": {
                "sent": exporter.sent if exporter else 0,
                "dropped": exporter.dropped if exporter else 0,
            },
        }
    )
