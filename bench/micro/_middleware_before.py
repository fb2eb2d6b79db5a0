# The service middleware as it was before traces, metrics and request logs
# (commit dc017bf), kept for bench/micro/observability_cost.py to compare against.
"""The one pure ASGI middleware every service runs (cheaper per request than a
stack of Starlette BaseHTTPMiddleware): request id, body limit, error boundary.

- Takes the caller's X-Request-Id (Envoy sets one) or makes one, echoes it back
  and binds it to every log line written while the request runs.
- Refuses request bodies over `max_bytes` with a JSON 413, whether the client
  announces the size (Content-Length) or streams it (chunked).
- Answers an unexpected error with a JSON 500 itself and does not re-raise it:
  Starlette's own handler re-raises, and uvicorn then closes the connection, so the
  gateway's next request on it, someone else's, failed too.
"""

import uuid

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microshop.chassis import faults

log = structlog.get_logger()

REQUEST_ID = b"x-request-id"


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
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.served += 1
        request_id = b""
        for key, value in scope["headers"]:
            if key == REQUEST_ID:
                request_id = value
            elif key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse_body(send)
                return
        if not request_id or len(request_id) > 128:
            request_id = uuid.uuid4().hex.encode()
        request_id_text = request_id.decode("latin-1")
        scope.setdefault("state", {})["request_id"] = request_id_text

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (REQUEST_ID, request_id)]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id_text):
            try:
                if faults.http_faults().active:
                    await faults.inject(scope)
                await self.app(scope, limited_receive, tracking_send)
            except BodyTooLarge:
                if not started:
                    await self._refuse_body(send)
            except Exception:
                log.exception("unhandled error", path=scope.get("path"))
                if not started:
                    for message in _json(500, {"error": "Internal server error"}):
                        await tracking_send(message)

    async def _refuse_body(self, send: Send) -> None:
        body = {"error": "Request body too large", "max_bytes": self.max_bytes}
        for message in _json(413, body, close=True):
            await send(message)
