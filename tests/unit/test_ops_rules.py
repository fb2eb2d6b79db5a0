from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microshop.services.ops.domain import rate, services_in, waterfall
from microshop.services.ops.otlp import BadExport, spans_of

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def span(span_id: str, parent: str, service: str, start: int, end: int) -> dict[str, Any]:
    return {
        "span_id": span_id,
        "parent_id": parent,
        "service": service,
        "name": f"{service} work",
        "kind": 2,
        "start_ns": start,
        "end_ns": end,
        "error": None,
        "attributes": {},
    }


def test_a_waterfall_puts_children_under_their_parent_in_time_order() -> None:
    spans = [
        span("c" * 16, "a" * 16, "catalog", 30, 40),
        span("a" * 16, "f" * 16, "orders", 0, 100),  # its parent is the caller's: a root
        span("b" * 16, "a" * 16, "payments", 10, 20),
        span("d" * 16, "b" * 16, "order_history", 50, 60),
    ]
    bars = waterfall(spans)
    assert [(b.service, b.depth) for b in bars] == [
        ("orders", 0),
        ("payments", 1),
        ("order_history", 2),
        ("catalog", 1),
    ]
    assert (bars[0].left, bars[0].width) == (0.0, 100.0)
    assert (bars[1].left, bars[1].width, bars[1].duration_ms) == (10.0, 10.0, 0.0)
    assert services_in(bars) == ["catalog", "order_history", "orders", "payments"]


def test_a_span_that_names_itself_its_parent_is_drawn_once() -> None:
    looped = [span("a" * 16, "a" * 16, "orders", 0, 10)]
    assert waterfall(looped) == []  # no root: nothing to hang it from, and no endless loop


def test_the_rate_is_the_served_count_difference_over_time() -> None:
    assert rate(100, 130, 3.0) == 10.0
    assert rate(None, 130, 3.0) is None
    assert rate(130, 5, 3.0) is None  # restarted: its counter began again


def otlp(spans: list[Any], service: str = "orders") -> dict[str, Any]:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


def test_an_otlp_export_becomes_span_records_with_their_order() -> None:
    raw = {
        "traceId": TRACE.upper(),
        "spanId": "00f067aa0ba902b7",
        "name": "POST /orders",
        "kind": 2,
        "startTimeUnixNano": "1000",
        "endTimeUnixNano": 2000,
        "attributes": [{"key": "order.id", "value": {"intValue": "42"}}],
        "status": {"code": 2, "message": "answered 503"},
    }
    [record] = spans_of(otlp([raw]))
    assert (record.trace_id, record.parent_id, record.service) == (TRACE, "", "orders")
    assert (record.start_ns, record.end_ns, record.order_id) == (1000, 2000, 42)
    assert record.error == "answered 503"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ([], "resourceSpans"),
        (otlp([{"traceId": "xyz", "spanId": "00f067aa0ba902b7"}]), "traceId"),
        (otlp([{"traceId": TRACE, "spanId": "00f067aa0ba902b7"}]), "startTimeUnixNano"),
        (
            otlp(
                [
                    {
                        "traceId": TRACE,
                        "spanId": "00f067aa0ba902b7",
                        "startTimeUnixNano": "-1",
                        "endTimeUnixNano": "1",
                    }
                ]
            ),
            "out of range",
        ),
    ],
)
def test_a_malformed_export_is_refused_with_a_sentence(body: Any, said: str) -> None:
    with pytest.raises(BadExport, match=said):
        spans_of(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
shapes = st.fixed_dictionaries(
    {"resourceSpans": st.lists(st.fixed_dictionaries({"scopeSpans": json_values}), max_size=2)}
)


@given(st.one_of(json_values, shapes))
def test_any_json_is_either_read_or_refused_with_a_sentence_never_a_crash(body: Any) -> None:
    try:
        records = spans_of(body)
    except BadExport as exc:
        assert str(exc)
    else:
        assert isinstance(records, list)
