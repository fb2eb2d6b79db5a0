"""What a careless or hostile client gets from the gateway, through a running system;
and the gateway's retries, in front of a service that closes connections on purpose."""

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from yarl import URL

from microshop.chassis.auth import ALGORITHMS, AUDIENCE, ISSUER
from microshop.chassis.service_auth import HEADER, operator_credential
from microshop.gateway.envoy_config import Endpoint, Gateway, render_envoy_config
from microshop.runtime.envoy import envoy_argv
from tests.e2e.system import System, running_system
from tests.support.asgi import free_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(240)

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
START_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("hardening") / "data"
    # A limit the module's own requests stay under; one test exceeds it on purpose.
    with running_system(data_dir, rate_limit="20/s:40") as running:
        yield running


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


async def fetch(
    url: str,
    method: str = "GET",
    *,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> Reply:
    """One request on a new connection from `source`; the URL is sent as written."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.request(method, URL(url, encoded=True), headers=headers, json=body) as reply,
    ):
        text = await reply.text()
        return Reply(reply.status, {k.lower(): v for k, v in reply.headers.items()}, text)


def token_for(system: System, audience: str) -> str:
    """A token signed with the users service's own key: only its audience may be wrong."""
    key = (system.data_dir / "secrets" / "jwt-signing-key.pem").read_bytes()
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": audience, "sub": "1", "role": "customer"}
    return jwt.encode({**claims, "iat": now, "exp": now + 300}, key, algorithm=ALGORITHMS[0])


async def test_a_token_for_another_audience_is_refused_with_401_like_any_invalid_token(
    system: System,
) -> None:
    url = system.url + "/api/products"
    refused = await fetch(url, headers={"Authorization": f"Bearer {token_for(system, 'shop2')}"})
    assert refused.status == 401
    assert refused.json() == {
        "error": "Invalid token",
        "reason": "Audiences in Jwt are not allowed",
    }
    assert refused.headers["www-authenticate"].startswith("Bearer ")
    accepted = await fetch(url, headers={"Authorization": f"Bearer {token_for(system, AUDIENCE)}"})
    assert accepted.status == 200


async def test_every_answer_carries_the_security_headers_errors_included(system: System) -> None:
    replies = {
        "service 200": await fetch(system.url + "/api/products"),
        "service 404": await fetch(system.url + "/api/products/999999"),
        "no route 404": await fetch(system.url + "/nowhere"),
        "gateway 200": await fetch(system.url + "/health"),
        "token 401": await fetch(
            system.url + "/api/products", headers={"Authorization": "Bearer not.a.token"}
        ),
    }
    # Its own address: the rate limit keeps one bucket per client address.
    burst = await asyncio.gather(
        *(fetch(system.url + "/health", source="127.0.0.9") for _ in range(60))
    )
    replies["rate limit 429"] = next(r for r in burst if r.status == 429)
    expected = [int(name.split()[-1]) for name in replies]
    assert [r.status for r in replies.values()] == expected
    for name, reply in replies.items():
        assert SECURITY_HEADERS.items() <= reply.headers.items(), name
        assert "strict-transport-security" not in reply.headers, name


async def test_a_nul_in_the_path_is_refused_with_400_saying_what_was_wrong(
    system: System,
) -> None:
    reply = await fetch(system.url + "/api/products/1%00")
    assert reply.status == 400
    assert reply.json() == {"error": "Bad request: the path or a header is malformed"}
    assert reply.headers["x-content-type-options"] == "nosniff"


async def test_the_api_page_says_what_runs_here_and_every_link_on_it_answers(
    system: System,
) -> None:
    page = await fetch(system.url + "/api")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "README.md in the microshop repository" in page.text
    links = re.findall(r'href="([^"]+)"', page.text)
    published = [p["url"] for p in system.state()["processes"].values() if "/api/" in p["url"]]
    health_checks = [url.removeprefix(system.url) + "/health" for url in published]
    assert {"/api/docs", "/health", *health_checks} <= set(links)
    for link in links:
        assert (await fetch(system.url + link)).status == 200, link


async def test_the_root_is_the_storefront_linking_to_the_api_page_and_the_docs(
    system: System,
) -> None:
    page = await fetch(system.url + "/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Products</h1>" in page.text
    assert {"/api", "/api/docs"} <= set(re.findall(r'href="([^"]+)"', page.text))


async def test_the_docs_page_and_swagger_ui_come_from_the_gateway_itself(system: System) -> None:
    page = await fetch(system.url + "/api/docs")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "://" not in page.text, "every asset from the gateway, none from a CDN"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(assets) == ["/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css"]
    script = await fetch(system.url + "/api/docs/swagger-ui-bundle.js")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in script.text
    stylesheet = await fetch(system.url + "/api/docs/swagger-ui.css")
    assert stylesheet.status == 200 and stylesheet.headers["content-type"].startswith("text/css")
    assert ".swagger-ui" in stylesheet.text


async def test_after_a_service_answers_500_the_next_ten_requests_succeed(system: System) -> None:
    faults_url = (
        f"http://127.0.0.1:{system.state()['processes']['catalog']['port']}/internal/faults"
    )
    credential = {HEADER: operator_credential(None, system.data_dir).token()}
    switched = await fetch(faults_url, "PUT", headers=credential, body={"fail_percent": 100})
    assert switched.status == 200, switched.text
    # A product, not the list: the gateway's cache would answer the list itself.
    try:
        failed = await fetch(system.url + "/api/products/1")
    finally:
        healed = await fetch(faults_url, "PUT", headers=credential, body={"fail_percent": 0})
    assert (failed.status, healed.status) == (500, 200)
    next_ten = [await fetch(system.url + "/api/products/1") for _ in range(10)]
    assert [r.status for r in next_ten] == [200] * 10


# The gateway in front of a service that misbehaves exactly when told to.


@dataclass
class UnreliableService:
    """Speaks just enough HTTP/1.1. `plan` says what each next request (health checks
    aside) gets: "close" (the connection, unanswered), "500-close" (a 500, then the
    connection closes, as uvicorn did after an unhandled error) or, once the plan is
    used up, a 200."""

    plan: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                method, path, _ = head.split("\r\n", 1)[0].split(" ")
                length = re.search(r"(?im)^content-length:\s*(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                if path.startswith("/health"):  # the gateway's active health checks
                    writer.write(_answer(200))
                    continue
                self.seen.append(f"{method} {path}")
                step = self.plan.pop(0) if self.plan else "200"
                if step == "close":
                    return
                writer.write(_answer(500 if step == "500-close" else 200))
                await writer.drain()
                if step == "500-close":
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


def _answer(status: int) -> bytes:
    body = json.dumps({"status": status}).encode()
    head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


@asynccontextmanager
async def gateway_before(service: UnreliableService, folder: Path) -> AsyncIterator[str]:
    """A real Envoy, configured as `microshop up` does, with `service` as users."""
    server = await asyncio.start_server(service.serve, "127.0.0.1", 0)
    service_port = server.sockets[0].getsockname()[1]
    port = free_port()
    config = Gateway(
        port=port,
        admin_port=free_port(),
        upstreams={"users": [Endpoint("127.0.0.1", service_port)]},
        edge_auth=False,
    )
    path = folder / "envoy.json"
    path.write_text(json.dumps(render_envoy_config(config)))
    envoy = await asyncio.create_subprocess_exec(
        *envoy_argv(path), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        await _until_answering(url + "/health")
        yield url
    finally:
        envoy.terminate()
        await envoy.wait()
        server.close()
        await server.wait_closed()


async def _until_answering(url: str) -> None:
    async def answers() -> bool:
        try:
            return (await fetch(url)).status == 200
        except aiohttp.ClientConnectionError:
            return False

    await eventually(answers, START_TIMEOUT, interval=0.1, message=f"{url} did not answer")


async def test_a_read_that_met_a_closed_connection_is_sent_again(tmp_path: Path) -> None:
    service = UnreliableService(plan=["close"])
    async with gateway_before(service, tmp_path) as gateway:
        reply = await fetch(gateway + "/api/users/1")
    assert reply.status == 200
    assert service.seen == ["GET /users/1", "GET /users/1"]


async def test_a_write_that_reached_the_service_is_never_sent_twice(tmp_path: Path) -> None:
    service = UnreliableService(plan=["close"])
    async with gateway_before(service, tmp_path) as gateway:
        reply = await fetch(gateway + "/api/users", "POST", body={"name": "x"})
    assert reply.status == 503
    assert reply.json()["error"] == "users unavailable"
    assert service.seen == ["POST /users"]


async def test_after_a_500_and_a_closed_connection_the_next_ten_requests_succeed(
    tmp_path: Path,
) -> None:
    service = UnreliableService(plan=["500-close"])
    async with gateway_before(service, tmp_path) as gateway:
        failed = await fetch(gateway + "/api/users/1")
        next_ten = [await fetch(gateway + "/api/users", method) for method in ["GET", "POST"] * 5]
    assert failed.status == 500
    assert [r.status for r in next_ten] == [200] * 10
