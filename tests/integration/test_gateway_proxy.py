"""The rendered configuration run by a real Envoy in front of a tiny echo service."""

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import pytest

from microshop.gateway.envoy_config import Endpoint, Gateway, render_envoy_config
from microshop.gateway.ratelimit import RateLimit
from microshop.runtime.envoy import envoy_argv
from tests.support.asgi import free_port
from tests.support.waiting import wait_until

MAX_BODY = 64 * 1024


class Echo(BaseHTTPRequestHandler):
    """Answers every request with the path and headers it received."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_json(200, {"path": self.path, "headers": dict(self.headers.items())})

    def send_json(self, status: int, answer: object) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import urllib.request

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"envoy exited: {process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    wait_until(answers, timeout, interval=0.1, message=f"{url} did not answer")


@pytest.fixture(scope="module")
def gateway(echo_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    config = Gateway(
        port=port,
        admin_port=free_port(),
        # "users" is the echo service; "catalog" has a replica nobody listens on.
        upstreams={
            "users": [Endpoint("127.0.0.1", echo_port)],
            "catalog": [Endpoint("127.0.0.1", free_port())],
        },
        rate_limit=RateLimit(10, 1, 20),
        max_body_bytes=MAX_BODY,
    )
    with envoy_running(config, tmp_path_factory.mktemp("envoy")) as url:
        yield url


@contextmanager
def envoy_running(config: Gateway, folder: Path) -> Iterator[str]:
    """A real Envoy running the rendered configuration, until the block ends."""
    path = folder / "envoy.json"
    path.write_text(json.dumps(render_envoy_config(config)))
    envoy = subprocess.Popen(envoy_argv(path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(f"http://127.0.0.1:{config.port}/health", envoy)
        yield f"http://127.0.0.1:{config.port}"
    finally:
        envoy.terminate()
        envoy.wait(timeout=10)
        if envoy.stderr:
            envoy.stderr.close()


async def fetch(
    url: str, method: str = "GET", source: str = "127.0.0.1", **kwargs: object
) -> tuple[int, dict[str, str], object]:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.request(method, url, **kwargs) as reply,  # type: ignore[arg-type]
    ):
        text = await reply.text()
        try:
            body: object = json.loads(text)
        except ValueError:
            body = text
        return reply.status, {k.lower(): v for k, v in reply.headers.items()}, body


async def test_a_request_reaches_the_service_with_the_public_prefix_swapped(gateway: str) -> None:
    status, _, body = await fetch(f"{gateway}/api/users/1?full=yes", source="127.0.0.3")
    assert status == 200
    assert isinstance(body, dict) and body["path"] == "/users/1?full=yes"


async def test_a_services_health_path_reaches_its_root_health_check(gateway: str) -> None:
    _, _, body = await fetch(f"{gateway}/api/users/health", source="127.0.0.3")
    assert isinstance(body, dict) and body["path"] == "/health"


async def test_the_service_learns_the_client_address_and_the_callers_request_id(
    gateway: str,
) -> None:
    _, headers, body = await fetch(
        f"{gateway}/api/auth/token",
        source="127.0.0.3",
        headers={"X-Request-Id": "trace-me-42", "X-Real-IP": "6.6.6.6"},
    )
    assert isinstance(body, dict)
    seen = {k.lower(): v for k, v in body["headers"].items()}
    assert seen["x-real-ip"] == "127.0.0.3"
    assert seen["x-forwarded-for"] == "127.0.0.3"
    assert seen["x-request-id"] == "trace-me-42"
    assert headers["x-request-id"] == "trace-me-42"


async def test_a_request_without_an_id_gets_one_even_on_envoys_own_replies(gateway: str) -> None:
    status, headers, body = await fetch(f"{gateway}/nowhere", source="127.0.0.4")
    assert (status, body) == (404, {"error": "Not found"})
    assert len(headers["x-request-id"]) >= 16


async def test_a_service_with_no_live_replica_answers_503_naming_it(gateway: str) -> None:
    status, headers, body = await fetch(f"{gateway}/api/products", source="127.0.0.5")
    assert (status, body) == (503, {"error": "catalog unavailable", "retry_after": 1})
    assert headers["retry-after"] == "1"


async def test_an_oversized_body_is_refused_with_json_413(gateway: str) -> None:
    status, _, body = await fetch(
        f"{gateway}/api/users", method="POST", source="127.0.0.6", data=b"x" * (MAX_BODY + 1)
    )
    assert (status, body) == (413, {"error": "Request body too large", "max_bytes": MAX_BODY})


async def test_the_docs_page_is_html(gateway: str) -> None:
    status, headers, body = await fetch(f"{gateway}/api/docs", source="127.0.0.3")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert isinstance(body, str) and "SwaggerUIBundle" in body


async def test_a_fast_client_is_limited_while_another_address_is_not(gateway: str) -> None:
    replies = [await fetch(f"{gateway}/health", source="127.0.0.7") for _ in range(25)]
    limited = [(headers, body) for status, headers, body in replies if status == 429]
    assert limited, "25 fast requests should exceed a burst of 20"
    headers, body = limited[0]
    assert body == {"error": "Too many requests", "retry_after": 1}
    assert headers["retry-after"] == "1"
    status, _, _ = await fetch(f"{gateway}/health", source="127.0.0.8")
    assert status == 200
