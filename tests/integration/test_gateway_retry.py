"""A 503 from one instance is a service saying "not now" before it did anything (a
peer it needs is out of its reach): a real Envoy sends a read, or a write carrying
an Idempotency-Key, once more to another instance, and never a keyless write."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from microshop.gateway.envoy_config import Endpoint, Gateway
from tests.integration.test_gateway_proxy import Echo, envoy_running, fetch
from tests.support.asgi import free_port

# More than the outlier detection's 5 in a row, so the refusing instance is picked
# first more than once (least-request picks at random between idle hosts).
REQUESTS = 16


class Refusing(Echo):
    """An orders instance that cannot reach users: ready, and 503 for every call."""

    calls = 0

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/health/ready":
            self.send_json(200, {})
            return
        type(self).calls += 1
        self.send_json(503, {"error": "users unavailable", "retry_after": 10})

    do_GET = do_POST = _answer


def _serving(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


@pytest.fixture
def orders_gateway(tmp_path: Path) -> Iterator[str]:
    """Two orders instances behind a real Envoy: one answers, one refuses."""
    Refusing.calls = 0
    good, good_port = _serving(Echo)
    bad, bad_port = _serving(Refusing)
    config = Gateway(
        port=free_port(),
        admin_port=free_port(),
        upstreams={"orders": [Endpoint("127.0.0.1", good_port), Endpoint("127.0.0.1", bad_port)]},
    )
    try:
        with envoy_running(config, tmp_path) as url:
            yield url
    finally:
        for server in (good, bad):
            server.shutdown()
            server.server_close()


async def test_reads_and_keyed_writes_refused_with_503_are_answered_by_another_instance(
    orders_gateway: str,
) -> None:
    replies = []
    for n in range(REQUESTS):
        replies.append(await fetch(f"{orders_gateway}/api/orders/{n}"))
        replies.append(
            await fetch(
                f"{orders_gateway}/api/orders",
                method="POST",
                headers={"Idempotency-Key": f"key-{n}"},
                data=json.dumps({"product_id": 1, "quantity": 1}),
            )
        )
    assert [status for status, _, _ in replies] == [200] * (2 * REQUESTS)
    assert Refusing.calls >= 1, "the refusing instance was never tried: nothing was retried"


async def test_a_keyless_write_refused_with_503_is_not_sent_again(orders_gateway: str) -> None:
    statuses = []
    for _ in range(REQUESTS):
        status, _, body = await fetch(
            f"{orders_gateway}/api/orders",
            method="POST",
            data=json.dumps({"product_id": 1, "quantity": 1}),
        )
        statuses.append(status)
        if status == 503:
            assert body == {"error": "users unavailable", "retry_after": 10}
    assert 503 in statuses and 200 in statuses, statuses
    assert statuses.count(503) == Refusing.calls
