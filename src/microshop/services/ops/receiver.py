"""The OTLP/HTTP trace receiver every service exports to by default:
`POST /v1/traces` with an OTLP/JSON body (what chassis/trace_export.py sends, and
any OpenTelemetry SDK with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`).

It is served without a credential, like a collector's port: spans are telemetry,
and it listens where the services do, not behind the gateway.
"""

import orjson
from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis.errors import error_response
from microshop.chassis.lean import LeanRoutes, reply
from microshop.services.ops import trace_store
from microshop.services.ops.otlp import BadExport, spans_of

receiver = LeanRoutes("/v1/traces")


@receiver.post("")
async def receive(request: Request) -> Response:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return error_response(
            415, "send OTLP/JSON (Content-Type: application/json); protobuf is not read here"
        )
    try:
        records = spans_of(orjson.loads(await request.body()))
    except orjson.JSONDecodeError:
        return error_response(400, "the body is not JSON")
    except BadExport as exc:
        return error_response(400, f"not an OTLP trace export: {exc}")
    kept: int = request.app.state.settings.traces_kept
    await trace_store.keep_spans(request.app.state.db, records, kept)
    return reply({"partialSuccess": {}})
