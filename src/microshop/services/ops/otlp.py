"""Reading an OTLP/HTTP export (JSON encoding) into span records: pure, no I/O.

    rows = spans_of(json_body)     # raises BadExport with a sentence if malformed

OTLP/JSON writes trace and span ids in hex and 64-bit integers as strings; the
protobuf encoding is not read here (a 415 says to send JSON).
"""

from dataclasses import dataclass
from typing import Any

MAX_SPANS = 10_000
MAX_ATTRIBUTES = 64
MAX_TEXT = 500


class BadExport(ValueError):
    """The body is not an OTLP/JSON trace export this receiver can keep."""


@dataclass(frozen=True, slots=True)
class SpanRecord:
    trace_id: str
    span_id: str
    parent_id: str
    service: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    error: str | None
    attributes: dict[str, Any]

    @property
    def order_id(self) -> int | None:
        value = self.attributes.get("order.id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


def _value(any_value: Any) -> Any:
    if not isinstance(any_value, dict):
        return None
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in any_value:
            return any_value[key]
    if "intValue" in any_value:
        try:
            return int(any_value["intValue"])
        except (TypeError, ValueError):
            return None
    return None


def _attributes(items: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            value = _value(item.get("value"))
            found[item["key"][:100]] = value[:MAX_TEXT] if isinstance(value, str) else value
        if len(found) >= MAX_ATTRIBUTES:
            break
    return found


def _hex(value: Any, length: int, what: str) -> str:
    if not isinstance(value, str) or len(value) != length:
        raise BadExport(f"{what} must be {length} hexadecimal digits")
    try:
        int(value, 16)
    except ValueError:
        raise BadExport(f"{what} must be {length} hexadecimal digits") from None
    return value.lower()


def _nanos(value: Any, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadExport(f"{what} must be a time in nanoseconds") from None
    if not 0 <= number < 2**63:
        raise BadExport(f"{what} is out of range")
    return number


def _span(raw: Any, service: str) -> SpanRecord:
    if not isinstance(raw, dict):
        raise BadExport("each span must be an object")
    parent = raw.get("parentSpanId") or ""
    status = raw.get("status") if isinstance(raw.get("status"), dict) else {}
    assert isinstance(status, dict)
    error = None
    if status.get("code") in (2, "STATUS_CODE_ERROR"):
        error = str(status.get("message") or "error")[:MAX_TEXT]
    kind = raw.get("kind", 1)
    return SpanRecord(
        trace_id=_hex(raw.get("traceId"), 32, "traceId"),
        span_id=_hex(raw.get("spanId"), 16, "spanId"),
        parent_id=_hex(parent, 16, "parentSpanId") if parent else "",
        service=service,
        name=str(raw.get("name") or "unnamed")[:200],
        kind=kind if isinstance(kind, int) and 0 <= kind <= 5 else 1,
        start_ns=_nanos(raw.get("startTimeUnixNano"), "startTimeUnixNano"),
        end_ns=_nanos(raw.get("endTimeUnixNano"), "endTimeUnixNano"),
        error=error,
        attributes=_attributes(raw.get("attributes")),
    )


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadExport(f"{what} must be a list")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadExport(f"{what} must be an object")
    return value


def spans_of(body: Any) -> list[SpanRecord]:
    if not isinstance(body, dict):
        raise BadExport("expected an object with a resourceSpans list")
    records: list[SpanRecord] = []
    for resource_spans in _list(body.get("resourceSpans"), "resourceSpans"):
        resource_spans = _object(resource_spans, "each resourceSpans entry")
        resource = _object(resource_spans.get("resource"), "resource")
        service = _attributes(resource.get("attributes")).get("service.name") or "unknown"
        for scope in _list(resource_spans.get("scopeSpans"), "scopeSpans"):
            for raw in _list(_object(scope, "each scopeSpans entry").get("spans"), "spans"):
                records.append(_span(raw, str(service)[:100]))
                if len(records) > MAX_SPANS:
                    raise BadExport(f"at most {MAX_SPANS} spans per export")
    return records
