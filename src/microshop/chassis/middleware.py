"""The one pure ASGI middleware every service runs (cheaper per request than a
stack of Starlette BaseHTTPMiddleware): request id, trace, metrics, request log,
body limit, error boundary.

- Takes the caller's X-Request-Id (Envoy sets one) or makes one, echoes it back
  and binds it to every log line written while the request runs.
- Refuses request bodies over `max_bytes` with a JSON 413, whether the client
  announces the size (Content-Length) or streams it (chunked).
- Continues the caller's trace (`traceparent`) or starts one: a server span,
  active while the request runs, so the calls and events it makes carry it.
- Counts and times the request per route template (chassis/metrics.py) and writes
  one JSON line for it (chassis/request_log.py), with its trace id and order id.
  Health checks, /metrics and span uploads are left out of all three.
- Answers an unexpected error with a JSON 500 itself and does not re-raise it:
  Starlette's own handler re-raises, and uvicorn then closes the connection, so the
  gateway's next request on it, someone else's, failed too.
"""

import time
import uuid
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microshop.chassis import faults, metrics, tracing
from microshop.chassis.telemetry import Telemetry

log = structlog.get_logger()

REQUEST_ID = b"x-request-id"
TRACEPARENT = b"traceparent"
# Asked every few seconds by the gateway, the supervisor and Prometheus, or the
# spans themselves on their way to the ops service: not what a trace or a request
# log is for.
UNOBSERVED = frozenset({"/health", "/health/ready", "/metrics", "/v1/traces", "/internal/status"})
ORDER_ID = "order.id"


class BodyTooLarge(Exception):
    pass


def _json(status: int, body: dict[str, object], close: bool = False) -> list[Message]:
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": payload},
    ]


class ServiceMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, telemetry: Telemetry | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.served = 0
        self.telemetry = telemetry or Telemetry()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = b""
        traceparent = None
        for key, value in scope["headers"]:
            if key == REQUEST_ID:
                request_id = value
            elif key == TRACEPARENT:
                traceparent = value.decode("latin-1")
            elif key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse_body(send)
                return
        if not request_id or len(request_id) > 128:
            request_id = uuid.uuid4().hex.encode()
        request_id_text = request_id.decode("latin-1")
        scope.setdefault("state", {})["request_id"] = request_id_text

        received = 0
        started = False
        status = 500

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID, request_id)]
            await send(message)

        observed = scope["path"] not in UNOBSERVED
        if observed:
            # Health checks and scrapes are not requests served: the gateway's
            # check alone would count one every 2 s on an idle instance.
            self.served += 1
            span = self.telemetry.tracer.start(
                scope["method"], tracing.SERVER, tracing.parse_traceparent(traceparent)
            )
            token = tracing.enter(span)
            began = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id_text):
            try:
                if faults.http_faults().active:
                    await faults.inject(scope)
                await self.app(scope, limited_receive, tracking_send)
            except BodyTooLarge:
                if not started:
                    status = 413
                    await self._refuse_body(send)
            except Exception as exc:
                log.exception("unhandled error", path=scope.get("path"))
                if observed:
                    span.fail(repr(exc)[:300])
                if not started:
                    for message in _json(500, {"error": "Internal server error"}):
                        await tracking_send(message)
            finally:
                if observed:
                    tracing.leave(token)
                    self._observed(
                        scope, span, status, time.perf_counter() - began, request_id_text
                    )

    def _observed(
        self, scope: Scope, span: tracing.Span, status: int, seconds: float, request_id: str
    ) -> None:
        method = scope["method"]
        route = route_of(scope)
        span.name = f"{method} {route}"
        span.attributes["http.route"] = route
        span.attributes["http.response.status_code"] = status
        if status >= 500 and span.error is None:
            span.error = f"answered {status}"
        self.telemetry.tracer.finish(span)
        metrics.observe_request(route, method, status, seconds)
        record: dict[str, Any] = {
            "kind": "request",
            "service": span.service,
            "instance": self.telemetry.instance,
            "method": method,
            "route": route,
            "path": scope["path"],
            "status": status,
            "ms": round(seconds * 1000, 2),
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "request_id": request_id,
        }
        if (order_id := span.attributes.get(ORDER_ID)) is not None:
            record["order_id"] = order_id
        self.telemetry.request_log.write(record)

    async def _refuse_body(self, send: Send) -> None:
        body = {"error": "Request body too large", "max_bytes": self.max_bytes}
        for message in _json(413, body, close=True):
            await send(message)


def route_of(scope: Scope) -> str:
    """The template of the route that answered (`/orders/{order_id}`): a lean one
    (chassis/lean.py) names it in the scope, a FastAPI one is the scope's route."""
    template = scope.get("route_template")
    if template is not None:
        return str(template)
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path is not None else "unmatched"
