"""Sends finished spans over OTLP/HTTP (JSON encoding), in batches, from a task of
its own: a request never waits for an export, and a collector that is away costs
dropped spans, never a slower order.

    exporter = SpanExporter("orders", lambda: "http://127.0.0.1:4318")
    tracer = Tracer("orders", sampler, exporter.add)
    exporter.start()         # in the event loop; `await exporter.stop()` flushes

The endpoint is a base URL as OTEL_EXPORTER_OTLP_ENDPOINT takes it (`/v1/traces`
is appended): MICROSHOP_OTLP_ENDPOINT, else the ops service, which keeps the last
traces and draws them in /ops.
"""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import structlog

from microshop import __version__
from microshop.chassis.client import IDLE_CONNECTION_SECONDS
from microshop.chassis.tracing import Span

log = structlog.get_logger()

TRACES_PATH = "/v1/traces"
# Spans waiting beyond this are dropped (counted): memory stays bounded when the
# collector is away or slower than the service.
MAX_QUEUED = 4096
BATCH = 512
EVERY_S = 1.0
TIMEOUT_S = 3.0


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in attributes.items()]


def _span(span: Span) -> dict[str, Any]:
    encoded: dict[str, Any] = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": _attributes(span.attributes),
        "status": {"code": 2, "message": span.error} if span.error else {"code": 0},
    }
    if span.parent_id:
        encoded["parentSpanId"] = span.parent_id
    return encoded


def otlp_json(service: str, spans: list[Span]) -> bytes:
    """One ExportTraceServiceRequest (OTLP/JSON: ids in hex, times as strings)."""
    resource = {"service.name": service, "service.version": __version__}
    request = {
        "resourceSpans": [
            {
                "resource": {"attributes": _attributes(resource)},
                "scopeSpans": [
                    {"scope": {"name": "microshop"}, "spans": [_span(s) for s in spans]}
                ],
            }
        ]
    }
    return orjson.dumps(request)


class SpanExporter:
    def __init__(self, service: str, endpoint: Callable[[], str | None]) -> None:
        self.service = service
        self.endpoint = endpoint
        self.queue: list[Span] = []
        self._held: list[Span] = []  # a batch that failed once, tried again next round
        self.dropped = 0
        self.sent = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def add(self, span: Span) -> None:
        if len(self.queue) >= MAX_QUEUED:
            self.dropped += 1
            return
        self.queue.append(span)
        if len(self.queue) >= BATCH:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="span-exporter")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), EVERY_S)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Sends what is queued, a batch at a time. A batch that could not be sent
        is held for the next round, a second later, and dropped if it fails again:
        a collector's hiccup costs no span, one that is away costs bounded memory."""
        if self._held:
            batch, self._held = self._held, []
            if not await self._send(batch):
                self.dropped += len(batch)
                return
        while self.queue:
            batch, self.queue = self.queue[:BATCH], self.queue[BATCH:]
            if not await self._send(batch):
                self._held = batch
                return

    async def _send(self, batch: list[Span]) -> bool:
        base = self.endpoint()
        if base is None:  # no collector known (yet)
            return False
        try:
            await self._post(base.rstrip("/") + TRACES_PATH, otlp_json(self.service, batch))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.debug("span export failed", error=repr(exc), spans=len(batch))
            return False
        self.sent += len(batch)
        return True

    async def _post(self, url: str, body: bytes) -> None:
        if self._session is None:
            # Let go of an idle connection before uvicorn closes it (after 5 s), as
            # the service client does: aiohttp keeps one 15 s by default, and a batch
            # written into a connection the server was closing was a batch lost.
            connector = aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)
            )
        headers = {"Content-Type": "application/json"}
        async with self._session.post(url, data=body, headers=headers) as reply:
            if reply.status >= 300:
                raise aiohttp.ClientError(f"collector answered {reply.status}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), TIMEOUT_S)
        if self._session is not None:
            await self._session.close()
