"""A trace drawn as a waterfall, and an instance's request rate: pure, no I/O.

bars = waterfall(spans)    # depth-first, children under their parent, in time order
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True, slots=True)
class Bar:
    span_id: str
    parent_id: str
    service: str
    name: str
    kind: str
    depth: int
    offset_ms: float
    duration_ms: float
    # Where the bar starts and how wide it is, in % of the whole trace.
    left: float
    width: float
    error: str | None
    attributes: Mapping[str, Any]


def waterfall(spans: Sequence[Mapping[str, Any]]) -> list[Bar]:
    """Each span under its parent (a span whose parent was not received is a root),
    siblings by start time."""
    if not spans:
        return []
    ids = {s["span_id"] for s in spans}
    children: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for span in spans:
        parent = span["parent_id"] if span["parent_id"] in ids else ""
        children[parent].append(span)
    for group in children.values():
        group.sort(key=lambda s: s["start_ns"])
    start = min(s["start_ns"] for s in spans)
    total = max(max(s["end_ns"] for s in spans) - start, 1)
    bars: list[Bar] = []
    stack = [(span, 0) for span in reversed(children[""])]
    seen: set[str] = set()
    while stack and len(bars) < len(spans):
        span, depth = stack.pop()
        if span["span_id"] in seen:
            continue
        seen.add(span["span_id"])
        offset, duration = span["start_ns"] - start, max(span["end_ns"] - span["start_ns"], 0)
        bars.append(
            Bar(
                span["span_id"],
                span["parent_id"],
                span["service"],
                span["name"],
                KINDS.get(span["kind"], "internal"),
                depth,
                round(offset / 1e6, 2),
                round(duration / 1e6, 2),
                round(100 * offset / total, 2),
                max(round(100 * duration / total, 2), 0.3),
                span["error"],
                span["attributes"],
            )
        )
        stack.extend((child, depth + 1) for child in reversed(children[span["span_id"]]))
    return bars


def services_in(bars: Sequence[Bar]) -> list[str]:
    return sorted({bar.service for bar in bars})


def rate(served_before: int | None, served_now: int, seconds: float) -> float | None:
    """Requests a second between two readings of an instance's served counter."""
    if served_before is None or seconds <= 0 or served_now < served_before:
        return None
    return (served_now - served_before) / seconds
