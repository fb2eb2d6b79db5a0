"""The ops service as a trace keeper, on SQLite and PostgreSQL: it keeps what an
OTLP/JSON export sends, only the last N traces, and refuses a bad export with a 4xx
and a sentence."""

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from microshop.services.ops.main import OpsSettings, build_app
from tests.integration.conftest import DatabaseFactory
from tests.support.asgi import serving
from tests.support.http import Api

KEPT = 3


def export(trace_id: str, order_id: int) -> dict[str, Any]:
    span = {
        "traceId": trace_id,
        "spanId": secrets.token_hex(8),
        "name": "POST /orders",
        "kind": 2,
        "startTimeUnixNano": "1000",
        "endTimeUnixNano": "2000",
        "attributes": [{"key": "order.id", "value": {"intValue": str(order_id)}}],
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "orders"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}


@pytest.fixture
async def ops(databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Api]:
    async with databases("ops") as db_url:
        settings = OpsSettings(
            database_url=db_url, data_dir=tmp_path, open_mode=True, traces_kept=KEPT
        )
        async with serving(build_app(settings)) as base:
            api = Api(base)
            yield api
            await api.close()


async def test_the_last_traces_are_kept_and_older_ones_dropped(ops: Api) -> None:
    traces = [secrets.token_hex(16) for _ in range(KEPT + 2)]
    for order_id, trace_id in enumerate(traces, start=1):
        status, _ = await ops.post("/v1/traces", export(trace_id, order_id))
        assert status == 200

    for order_id, trace_id in enumerate(traces, start=1):
        status, found = await ops.get(f"/ops/api/orders/{order_id}/traces")
        assert status == 200
        assert found == ([trace_id] if order_id > 2 else []), order_id
    status, spans = await ops.get(f"/ops/api/traces/{traces[-1]}")
    assert status == 200 and [s["service"] for s in spans] == ["orders"]
    assert (await ops.get(f"/ops/api/traces/{traces[0]}"))[0] == 404


async def test_a_bad_export_is_a_4xx_with_a_sentence(ops: Api) -> None:
    status, reply = await ops.post("/v1/traces", {"resourceSpans": {"not": "a list"}})
    assert (status, reply["error"]) == (
        400,
        "not an OTLP trace export: resourceSpans must be a list",
    )
    status, reply = await ops.call(
        "POST", "/v1/traces", data=b"\x0a\x00", headers={"Content-Type": "application/x-protobuf"}
    )
    assert status == 415 and "OTLP/JSON" in reply["error"]
    status, reply = await ops.call(
        "POST", "/v1/traces", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert (status, reply["error"]) == (400, "the body is not JSON")
