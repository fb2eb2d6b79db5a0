"""Traces and request logs of the whole system, without a browser (on the console
tests' system, to start one system less): one order is one trace across HTTP calls
and events, kept by the ops service, and `microshop logs --order` follows it
through every service."""

import secrets
from typing import Any

import pytest

from tests.e2e.shopper import as_admin, sign_up
from tests.e2e.system import System
from tests.support.http import Api
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(240)
WAIT = {"Prefer": "wait=10"}
LAPTOP = 1
# Where the work of an order goes: the saga's steps over HTTP, its events to the consumers.
EVERY_SERVICE_OF_AN_ORDER = {"orders", "payments", "catalog", "shipping", "order_history"}


def traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


async def spans_of(admin: Api, trace_id: str) -> list[dict[str, Any]]:
    status, spans = await admin.get(f"/ops/api/traces/{trace_id}")
    return spans if status == 200 else []  # type: ignore[no-any-return]


async def test_one_order_is_one_trace_across_http_and_events_forming_one_tree(
    api: Api, system: System
) -> None:
    _, customer = await sign_up(api, "tracy")
    admin = await as_admin(api)
    header, trace_id, caller_span = traceparent()

    status, order = await customer.post(
        "/api/orders",
        {"product_id": LAPTOP, "quantity": 1},
        # Sampled, as the caller asks (-01): whatever the system's own sampling says.
        headers={**WAIT, "traceparent": header},
    )
    assert status == 201 and order["status"] == "approved", order

    async def whole_trace() -> list[dict[str, Any]]:
        spans = await spans_of(admin, trace_id)
        services = {s["service"] for s in spans}
        consumed = {(s["service"], s["name"]) for s in spans if s["kind"] == 5}
        last = {
            ("notifications", "handle order.approved"),
            ("order_history", "handle order.approved"),
        }
        return spans if services >= EVERY_SERVICE_OF_AN_ORDER and consumed >= last else []

    spans = await eventually(whole_trace, 30, interval=0.5, message="the order's spans")
    # The order's spans are this trace's, and only this trace's.
    status, traces = await admin.get(f"/ops/api/orders/{order['id']}/traces")
    assert (status, traces) == (200, [trace_id])
    # One tree: a single root, the caller's span; every other parent is a span of it.
    ids = {s["span_id"] for s in spans}
    assert len(ids) == len(spans)
    assert [s["name"] for s in spans if s["parent_id"] not in ids] == ["POST /orders"]
    assert {s["parent_id"] for s in spans if s["parent_id"] not in ids} == {caller_span}
    # Across HTTP (server and client spans) and events (consumer spans).
    kinds = {(s["service"], s["kind"]) for s in spans}
    assert {("orders", 3), ("payments", 2), ("catalog", 2), ("shipping", 2)} <= kinds
    assert {("order_history", 5), ("notifications", 5)} <= kinds
    assert len({s["service"] for s in spans}) >= 5
    # The CLI prints the same tree.
    printed = system.microshop("trace", str(order["id"]), "--data-dir", str(system.data_dir))
    assert printed.returncode == 0, printed.stderr
    assert f"trace {trace_id}:" in printed.stdout
    assert "orders: POST /orders" in printed.stdout
    assert "  notifications: handle order.approved" in printed.stdout


async def test_an_order_is_followed_through_the_request_logs_of_every_service(
    api: Api, system: System
) -> None:
    _, customer = await sign_up(api, "logan")
    status, order = await customer.post(
        "/api/orders", {"product_id": LAPTOP, "quantity": 1}, headers=WAIT
    )
    assert status == 201 and order["status"] == "approved", order

    def path() -> str:
        shown = system.microshop(
            "logs", "--order", str(order["id"]), "--data-dir", str(system.data_dir)
        )
        assert shown.returncode == 0, shown.stderr
        return shown.stdout if "event   order.approved" in shown.stdout else ""

    lines = (await eventually(path, 20, interval=0.5, message="the order's log lines")).splitlines()
    services = {line.split()[1] for line in lines}
    assert services >= EVERY_SERVICE_OF_AN_ORDER
    assert len({line.split("trace=")[1].split()[0] for line in lines}) == 1
    assert any("request POST /orders -> 201" in line for line in lines)
