"""CPU that traces, metrics and request logs add to one request and one order, in-process.

    .venv/bin/python bench/micro/observability_cost.py

A request through the service middleware (chassis/middleware.py) around a trivial
ASGI app, a call through the service client's tracing and metrics, and one event's
consumer span, log line and metrics (chassis/inbox.py), each measured with the
telemetry off and at its defaults (tracing on, 1 sampled root a second, a request
log file). An order is 6 requests served, 5 calls, 6 events handled
(PERF-EVIDENCE.md): the per-order figure is those counts times the deltas.
Minimum of several repeats of process CPU time, so a busy machine inflates less.
"""

import asyncio
import subprocess
import tempfile
import time
import types
import uuid
from datetime import UTC, datetime
from pathlib import Path

from microshop.chassis import metrics, tracing
from microshop.chassis.inbox import Decoded, Inbox
from microshop.chassis.middleware import ServiceMiddleware
from microshop.chassis.request_log import NoRequestLog, open_request_log
from microshop.chassis.telemetry import Telemetry
from microshop.contracts.events import Envelope

N = 5000
REPEATS = 5
# The service middleware before traces, metrics and request logs: read from git
# history rather than kept as a second copy in the tree.
BEFORE_TELEMETRY = "dc017bf:src/microshop/chassis/middleware.py"
PER_ORDER = {"requests served": 6, "calls made": 5, "events handled": 6}
TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


def middleware_before() -> type:
    source = subprocess.run(
        ["git", "show", BEFORE_TELEMETRY],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("middleware_before")
    exec(
        compile(source, BEFORE_TELEMETRY, "exec"), module.__dict__
    )  # the code as it was, from our own history
    return module.ServiceMiddleware  # type: ignore[no-any-return]


async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    scope["route_template"] = "/internal/payments"
    await send({"type": "http.response.start", "status": 201, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"{}"})  # type: ignore[operator]


def telemetry(on: bool, folder: Path) -> Telemetry:
    made = Telemetry()
    made.instance = "payments"
    if on:
        made.tracer = tracing.Tracer("payments", tracing.Sampler(0.0, 1.0), lambda span: None)
        made.request_log = open_request_log("file", folder, "payments")
    else:
        made.tracer = tracing.Tracer("payments", enabled=False)
        made.request_log = NoRequestLog()
    return made


async def per_request(middleware: ServiceMiddleware) -> float:
    headers = [
        (b"x-request-id", b"5d1f0c1e-6a0b-4a57-9c55-0e9c3a7b2d11"),
        (b"traceparent", TRACEPARENT),
        (b"content-length", b"2"),
    ]

    async def receive() -> dict:  # type: ignore[type-arg]
        return {"type": "http.request", "body": b"{}"}

    async def send(_: dict) -> None:  # type: ignore[type-arg]
        pass

    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(N):
            scope = {
                "type": "http",
                "method": "POST",
                "path": "/internal/payments",
                "headers": headers,
            }
            await middleware(scope, receive, send)
        best = min(best, (time.process_time() - started) / N)
    return best * 1e6


def per_call(tracer: tracing.Tracer) -> float:
    """What ServiceClient.request adds around the HTTP call itself."""
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(N):
            span = tracer.start("POST payments", tracing.CLIENT)
            span.attributes["url.path"] = "/internal/payments"
            span.attributes["peer.service"] = "payments"
            began = time.perf_counter()
            headers = {"traceparent": span.traceparent}
            span.attributes["http.response.status_code"] = 201
            metrics.observe_call("payments", "POST", "2xx", time.perf_counter() - began)
            tracer.finish(span)
        best = min(best, (time.process_time() - started) / N)
    del headers
    return best * 1e6


def per_event(inbox: Inbox) -> float:
    fact_envelope = Envelope(
        id=uuid.uuid4(),
        type="order.created",
        occurred_at=datetime.now(UTC),
        source="orders",
        trace="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        data={"id": 1},
    )
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(N):
            decoded = Decoded(fact_envelope, None, None)  # type: ignore[arg-type]
            span = decoded.span = inbox.telemetry.tracer.start(
                "handle order.created",
                tracing.CONSUMER,
                tracing.parse_traceparent(fact_envelope.trace),
                inherit=False,
            )
            span.attributes["messaging.consumer"] = "order_history"
            token = tracing.enter(span)
            tracing.leave(token)
            inbox._observed(decoded, None)
        best = min(best, (time.process_time() - started) / N)
    return best * 1e6


async def main() -> None:
    folder = Path(tempfile.mkdtemp())
    results: dict[str, dict[str, float]] = {}
    for on in (False, True):
        made = telemetry(on, folder)
        served = await per_request(ServiceMiddleware(app, 1 << 20, made))
        called = per_call(made.tracer)
        handled = per_event(Inbox("order_history", None, None, {}, made))  # type: ignore[arg-type]
        results["defaults" if on else "off"] = {
            "requests served": served,
            "calls made": called,
            "events handled": handled,
        }
    bare = await per_request(app)  # type: ignore[arg-type]
    before = await per_request(middleware_before()(app, 1 << 20))
    print(f"bare ASGI call: {bare:.1f} µs; the middleware before observability: {before:.1f} µs")
    # Before, a call and an event carried none of this, and a request only `before`.
    results["before"] = {"requests served": before, "calls made": 0.0, "events handled": 0.0}
    total = dict.fromkeys(results, 0.0)
    for what, count in PER_ORDER.items():
        for name in results:
            total[name] += results[name][what] * count
        print(
            f"{what:<16} before {results['before'][what]:5.1f} µs   off {results['off'][what]:5.1f}"
            f" µs   defaults {results['defaults'][what]:5.1f} µs   (x{count} an order)"
        )
    print(
        f"per order: before {total['before']:.0f} µs, telemetry off {total['off']:.0f} µs, "
        f"defaults {total['defaults']:.0f} µs: {total['defaults'] - total['before']:.0f} µs added"
    )


if __name__ == "__main__":
    asyncio.run(main())
