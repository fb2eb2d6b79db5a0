"""Traces across HTTP calls and events: W3C Trace Context in, spans out.

A span is one unit of work in one service (a request served, a call to a peer, an
event handled). Its context travels in the `traceparent` header of every service
call and in the `trace` field of every event envelope, so one order is one trace
from the first service it reached to the last consumer of its events.

    span = tracer.start("POST /orders", SERVER, parent=parse_traceparent(header))
    token = enter(span)
    ...                        # calls and events made now carry span's context
    leave(token)
    tracer.finish(span)

Why not the OpenTelemetry SDK: measured here (SDK 1.45, parent-based ratio sampler,
batch processor, a no-op exporter) it costs 12 to 14 µs of CPU per span not sampled and
32 to 43 µs per span recorded, and 90 ms (warm) to 450 ms (cold) of import in every
service's start.
This module speaks the same wire formats (traceparent, OTLP/HTTP JSON: see
trace_export.py) for a fifth of that or less (docs/observability.md has the figures), so
Jaeger, Tempo or any collector read what it sends.

Sampling is decided once, where a trace starts, and every service downstream
follows the caller's decision (parent-based): a trace is whole or absent. A root
is sampled when a caller asks (a `traceparent` with the sampled flag), with
probability `ratio`, or as the first root of each `1 / per_second` interval, so
a person clicking through the shop sees every order traced while a load test
records only a few a second. A span not sampled still carries its trace id into
the logs and downstream; it is never kept nor exported.
"""

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

TRACEPARENT = "traceparent"
# OTLP's span kinds.
INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5

# Version 00's layout; a later version may append fields, which are ignored.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


@dataclass(frozen=True, slots=True)
class Parent:
    """A span context that came from elsewhere (a header, an envelope)."""

    trace_id: str
    span_id: str
    sampled: bool


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    sampled: bool
    name: str
    kind: int
    service: str
    start_ns: int
    end_ns: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    def set(self, key: str, value: Any) -> None:
        self.attributes[key] = value

    def fail(self, message: str) -> None:
        self.error = message


def parse_traceparent(value: str | None) -> Parent | None:
    """The parent a W3C `traceparent` names; None for a missing or malformed one
    (the spec says: start a new trace rather than refuse the request)."""
    if not value:
        return None
    found = _TRACEPARENT.match(value)
    if found is None:
        return None
    version, trace_id, span_id, flags = found.groups()
    if version == "ff" or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    if version == "00" and len(value) != 55:
        return None
    return Parent(trace_id, span_id, flags[1] in "13579bdf")


_current: ContextVar[Span | None] = ContextVar("microshop_span", default=None)


def current_traceparent() -> str | None:
    """What a call or an event made now carries: the active span's context."""
    span = _current.get()
    return span.traceparent if span is not None else None


def enter(span: Span) -> Token[Span | None]:
    """Makes `span` the parent of the spans, calls and events made until `leave(token)`."""
    return _current.set(span)


def leave(token: Token[Span | None]) -> None:
    _current.reset(token)


def annotate_order(order_id: int) -> None:
    """Names the order the current work is about: on its span and its log line."""
    span = _current.get()
    if span is not None:
        span.attributes["order.id"] = order_id


class Sampler:
    """Decides for a trace's root: with probability `ratio`, and the first root of
    every `1 / per_second` seconds (a budget: a busy system records only that many
    a second, a quiet one every request)."""

    def __init__(
        self, ratio: float = 0.0, per_second: float = 1.0, clock: Callable[[], float] | None = None
    ) -> None:
        self.ratio = ratio
        self.interval = 1.0 / per_second if per_second > 0 else None
        self.clock = clock or time.monotonic
        self._next = 0.0

    def sample_root(self) -> bool:
        if self.ratio and random.random() < self.ratio:
            return True
        if self.interval is None:
            return False
        now = self.clock()
        if now >= self._next:
            self._next = now + self.interval
            return True
        return False


SpanSink = Callable[[Span], None]


class Tracer:
    """Makes the spans of one service; hands each finished sampled one to `sink`
    (the exporter's queue). A tracer that is off still propagates: its spans carry
    the caller's trace id, or a new one, and are never recorded."""

    def __init__(
        self,
        service: str,
        sampler: Sampler | None = None,
        sink: SpanSink | None = None,
        *,
        enabled: bool = True,
    ) -> None:
        self.service = service
        self.sampler = sampler or Sampler()
        self.sink = sink
        self.enabled = enabled

    def start(
        self,
        name: str,
        kind: int = INTERNAL,
        parent: Parent | Span | None = None,
        *,
        inherit: bool = True,
    ) -> Span:
        """A new span, child of `parent`, else (inherit) of the active span, else a root."""
        if parent is None and inherit:
            parent = _current.get()
        if parent is not None:
            trace_id, parent_id, sampled = parent.trace_id, parent.span_id, parent.sampled
        else:
            trace_id, parent_id = f"{random.getrandbits(128):032x}", ""
            sampled = self.enabled and self.sampler.sample_root()
        return Span(
            trace_id,
            f"{random.getrandbits(64):016x}",
            parent_id,
            sampled and self.enabled,
            name,
            kind,
            self.service,
            time.time_ns(),
        )

    def finish(self, span: Span) -> None:
        span.end_ns = time.time_ns()
        if span.sampled and self.sink is not None:
            self.sink(span)

    @contextmanager
    def span(self, name: str, kind: int = INTERNAL, parent: Parent | None = None) -> Iterator[Span]:
        """A span around a block, active inside it; an exception marks it failed."""
        span = self.start(name, kind, parent)
        token = _current.set(span)
        try:
            yield span
        except BaseException as exc:
            span.fail(f"{type(exc).__name__}: {exc}"[:300])
            raise
        finally:
            _current.reset(token)
            self.finish(span)


# Until a service configures its own (chassis/app.py), spans propagate and are dropped.
_default = Tracer("microshop", Sampler(0.0, 0.0))


def default_tracer() -> Tracer:
    return _default
