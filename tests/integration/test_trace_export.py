"""The span exporter against a real HTTP collector on loopback: what it sends is
OTLP/JSON that the ops service's receiver reads back, and a collector that is away
costs dropped spans, never an error in the service; a batch refused once is sent a
round later."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from aiohttp import web

from microshop.chassis.trace_export import SpanExporter
from microshop.chassis.tracing import CLIENT, SERVER, Sampler, Tracer
from microshop.services.ops.otlp import spans_of
from tests.support.asgi import free_port


@asynccontextmanager
async def collector(refusals: int = 0) -> AsyncIterator[tuple[str, list[Any]]]:
    """A collector at http://127.0.0.1:<port> keeping each export's JSON body; it
    answers 503 to its first `refusals` exports."""
    received: list[Any] = []
    refused = 0

    async def traces(request: web.Request) -> web.Response:
        nonlocal refused
        assert request.content_type == "application/json"
        if refused < refusals:
            refused += 1
            return web.json_response({}, status=503)
        received.append(orjson.loads(await request.read()))
        return web.json_response({"partialSuccess": {}})

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


async def test_spans_reach_the_configured_collector_as_otlp_json_the_ops_service_reads() -> None:
    async with collector() as (url, received):
        exporter = SpanExporter("orders", lambda: url)
        tracer = Tracer("orders", Sampler(1.0, 0.0), exporter.add)
        with tracer.span("POST /orders", SERVER) as server:
            server.set("order.id", 42)
            with tracer.span("GET catalog", CLIENT):
                pass
        await exporter.flush()
        await exporter.stop()

    [body] = received
    records = spans_of(body)
    assert [(r.service, r.name) for r in records] == [
        ("orders", "GET catalog"),
        ("orders", "POST /orders"),
    ]
    assert records[0].parent_id == records[1].span_id
    assert records[1].order_id == 42
    assert (exporter.sent, exporter.dropped) == (2, 0)


async def test_a_collector_that_is_away_costs_dropped_spans_not_an_error() -> None:
    exporter = SpanExporter("orders", lambda: f"http://127.0.0.1:{free_port()}")
    tracer = Tracer("orders", Sampler(1.0, 0.0), exporter.add)
    with tracer.span("POST /orders", SERVER):
        pass
    await exporter.flush()
    await exporter.stop()
    assert (exporter.sent, exporter.dropped, exporter.queue) == (0, 1, [])


async def test_a_batch_the_collector_refused_once_is_sent_in_the_next_round() -> None:
    async with collector(refusals=1) as (url, received):
        exporter = SpanExporter("orders", lambda: url)
        tracer = Tracer("orders", Sampler(1.0, 0.0), exporter.add)
        with tracer.span("POST /orders", SERVER):
            pass
        await exporter.flush()  # refused: held for the next round
        assert (exporter.sent, exporter.dropped, received) == (0, 0, [])
        await exporter.flush()
        await exporter.stop()
    assert [r.name for r in spans_of(received[0])] == ["POST /orders"]
    assert (exporter.sent, exporter.dropped) == (1, 0)
