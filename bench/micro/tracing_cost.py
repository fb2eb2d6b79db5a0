"""CPU per span of microshop's tracer (chassis/tracing.py), in-process.

    .venv/bin/python bench/micro/tracing_cost.py

Measures what one span costs in a service: start, activate, a traceparent for the
outgoing call, finish, and (sampled) the OTLP/JSON encoding the exporter does.
docs/observability.md quotes its figures.
"""

import time

from microshop.chassis.trace_export import otlp_json
from microshop.chassis.tracing import (
    SERVER,
    Sampler,
    Span,
    Tracer,
    current_traceparent,
    enter,
    leave,
    parse_traceparent,
)

N = 20_000
REPEATS = 5
INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


def per_span(tracer: Tracer, spans: list[Span], header: str | None) -> float:
    """The minimum over REPEATS runs: a busy machine inflates the others."""
    best = float("inf")
    for _ in range(REPEATS):
        spans.clear()
        started = time.process_time()
        for _ in range(N):
            span = tracer.start("POST /orders", SERVER, parse_traceparent(header), inherit=False)
            token = enter(span)
            span.set("http.route", "/orders")
            current_traceparent()
            leave(token)
            span.set("http.status_code", 201)
            tracer.finish(span)
        best = min(best, (time.process_time() - started) / N)
    return best * 1e6


def encoding(spans: list[Span]) -> float:
    started = time.process_time()
    for offset in range(0, len(spans), 512):
        otlp_json("orders", spans[offset : offset + 512])
    return (time.process_time() - started) / len(spans) * 1e6


def main() -> None:
    kept: list[Span] = []
    off = Tracer("orders", Sampler(0.0, 0.0), kept.append)
    print(f"not sampled (caller's flag 00):  {per_span(off, kept, INCOMING):.2f} µs per span")
    print(f"not sampled (a new root):        {per_span(off, kept, None):.2f} µs per span")
    on = Tracer("orders", Sampler(1.0, 0.0), kept.append)
    sampled = per_span(on, kept, None)
    print(f"sampled, recorded:               {sampled:.2f} µs per span")
    print(f"sampled, OTLP/JSON encoding:     {encoding(kept):.2f} µs per span")


if __name__ == "__main__":
    main()
