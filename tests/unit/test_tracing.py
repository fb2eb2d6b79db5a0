import orjson

from microshop.chassis.trace_export import otlp_json
from microshop.chassis.tracing import (
    CLIENT,
    SERVER,
    Sampler,
    Span,
    Tracer,
    current_traceparent,
    enter,
    leave,
    parse_traceparent,
)

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_names_the_callers_trace_span_and_decision() -> None:
    parent = parse_traceparent(CALLER)
    assert parent is not None
    assert (parent.trace_id, parent.span_id, parent.sampled) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        True,
    )
    assert parse_traceparent(CALLER[:-2] + "00").sampled is False  # type: ignore[union-attr]


def test_a_malformed_traceparent_starts_a_new_trace_instead_of_failing() -> None:
    for bad in (
        None,
        "",
        "garbage",
        CALLER.upper(),
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        CALLER + "-extra",
    ):
        assert parse_traceparent(bad) is None, bad


def test_children_follow_the_callers_decision_and_carry_its_trace() -> None:
    kept: list[Span] = []
    never = Tracer("orders", Sampler(0.0, 0.0), kept.append)
    server = never.start("POST /orders", SERVER, parse_traceparent(CALLER))
    token = enter(server)
    call = never.start("GET catalog", CLIENT)
    assert current_traceparent() == server.traceparent
    leave(token)
    never.finish(call)
    never.finish(server)
    assert call.trace_id == server.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert call.parent_id == server.span_id and server.parent_id == "00f067aa0ba902b7"
    assert kept == [call, server]  # sampled by the caller, though the ratio is 0


def test_a_root_is_sampled_once_per_interval_and_unsampled_spans_are_never_kept() -> None:
    now = [100.0]
    kept: list[Span] = []
    tracer = Tracer("orders", Sampler(0.0, per_second=1.0, clock=lambda: now[0]), kept.append)
    first, second = tracer.start("a"), tracer.start("b")
    now[0] += 1.0
    third = tracer.start("c")
    assert [first.sampled, second.sampled, third.sampled] == [True, False, True]
    for span in (first, second, third):
        tracer.finish(span)
    assert kept == [first, third]
    assert second.traceparent.endswith("-00") and len(second.trace_id) == 32


def test_a_tracer_that_is_off_propagates_but_records_nothing() -> None:
    kept: list[Span] = []
    off = Tracer("orders", Sampler(1.0, 1.0), kept.append, enabled=False)
    span = off.start("POST /orders", SERVER, parse_traceparent(CALLER))
    off.finish(span)
    assert (span.trace_id, span.sampled, kept) == ("4bf92f3577b34da6a3ce929d0e0e4736", False, [])


def test_the_export_is_otlp_json_with_hex_ids_and_the_failure_as_status() -> None:
    tracer = Tracer("payments", Sampler(1.0, 0.0))
    span = tracer.start("POST /internal/payments", SERVER)
    span.set("order.id", 7)
    span.fail("declined")
    tracer.finish(span)
    body = orjson.loads(otlp_json("payments", [span]))
    resource = body["resourceSpans"][0]
    assert {"key": "service.name", "value": {"stringValue": "payments"}} in resource["resource"][
        "attributes"
    ]
    sent = resource["scopeSpans"][0]["spans"][0]
    assert sent["traceId"] == span.trace_id and sent["spanId"] == span.span_id
    assert "parentSpanId" not in sent and sent["kind"] == SERVER
    assert sent["status"] == {"code": 2, "message": "declined"}
    assert {"key": "order.id", "value": {"intValue": "7"}} in sent["attributes"]
    assert int(sent["endTimeUnixNano"]) >= int(sent["startTimeUnixNano"])
