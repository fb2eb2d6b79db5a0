"""The service client's HTTP connections against real servers, on uvloop as services
run: reuse, chunked answers, peers that hang up, refuse or say `Connection: close`."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import orjson
import pytest
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from microshop.chassis.http_pool import HttpPool, NeverArrived, RequestFailed
from tests.support.asgi import free_port, serving

pytestmark = pytest.mark.timeout(30)


def on_uvloop(scenario: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """The test runs `scenario` on uvloop, the loop services run on."""

    def test() -> None:
        uvloop.run(scenario())

    test.__name__, test.__doc__ = scenario.__name__, scenario.__doc__
    return test


async def echo(request: Request) -> Response:
    body = {"method": request.method, "body": (await request.body()).decode()}
    return Response(orjson.dumps(body), media_type="application/json")


async def chunked(_: Request) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b'{"parts": ', b"[1, 2, ", b"3]}"):
            yield part

    return StreamingResponse(parts(), media_type="application/json")


async def closing(_: Request) -> Response:
    return Response(b"{}", headers={"Connection": "close"}, media_type="application/json")


APP = Starlette(
    routes=[
        Route("/echo", echo, methods=["GET", "POST"]),
        Route("/chunked", chunked),
        Route("/closing", closing),
    ]
)


async def connections_to(url: str) -> int:
    """How many connections the server side holds now (by the peer's port)."""
    port = int(url.rsplit(":", 1)[1])
    process = await asyncio.create_subprocess_exec(
        "ss",
        "-Htn",
        "state",
        "established",
        f"( sport = :{port} )",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    return len([line for line in out.decode().splitlines() if line.strip()])


@on_uvloop
async def test_calls_one_after_another_reuse_one_connection() -> None:
    pool = HttpPool()
    async with serving(APP) as url:  # type: ignore[arg-type]
        for n in range(5):
            status, body = await pool.request(url, "POST", "/echo", b"hello %d" % n, {})
            assert status == 200
            assert orjson.loads(body) == {"method": "POST", "body": f"hello {n}"}
        assert await connections_to(url) == 1
        pool.close()


@on_uvloop
async def test_a_chunked_answer_arrives_whole() -> None:
    pool = HttpPool()
    async with serving(APP) as url:  # type: ignore[arg-type]
        status, body = await pool.request(url, "GET", "/chunked", None, {})
        pool.close()
    assert (status, orjson.loads(body)) == (200, {"parts": [1, 2, 3]})


@on_uvloop
async def test_a_connection_the_peer_closes_is_not_used_again() -> None:
    pool = HttpPool()
    async with serving(APP) as url:  # type: ignore[arg-type]
        assert (await pool.request(url, "GET", "/closing", None, {}))[0] == 200
        assert (await pool.request(url, "GET", "/echo", None, {}))[0] == 200
        pool.close()


@on_uvloop
async def test_an_idle_connection_past_its_time_is_replaced() -> None:
    pool = HttpPool(idle_s=0.2)
    async with serving(APP) as url:  # type: ignore[arg-type]
        await pool.request(url, "GET", "/echo", None, {})
        await asyncio.sleep(0.3)  # the point: longer than the idle limit
        await pool.request(url, "GET", "/echo", None, {})
        assert await connections_to(url) == 1, "the stale one was closed, one new one opened"
        pool.close()


@on_uvloop
async def test_nobody_listening_means_the_request_never_arrived() -> None:
    with pytest.raises(NeverArrived):
        await HttpPool().request(f"http://127.0.0.1:{free_port()}", "POST", "/x", b"{}", {})


@asynccontextmanager
async def raw_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@on_uvloop
async def test_a_peer_that_hangs_up_before_answering_fails_the_request() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async with raw_server(hang_up) as url:
        with pytest.raises(RequestFailed) as failure:
            await HttpPool().request(url, "GET", "/x", None, {})
    assert not isinstance(failure.value, NeverArrived), "it may have reached the peer"


@on_uvloop
async def test_an_answer_that_is_not_http_fails_the_request() -> None:
    async def babble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()
        await reader.read()  # until the client gives up on us
        writer.close()

    async with raw_server(babble) as url:
        with pytest.raises(RequestFailed):
            await HttpPool().request(url, "GET", "/x", None, {})


@on_uvloop
async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.read(1000))
        writer.close()

    async with raw_server(record) as url:
        with pytest.raises(ValueError, match="line break"):
            await HttpPool().request(url, "GET", "/x", None, {"X-Request-Id": "a\r\nX-Admin: 1"})
    assert seen == []
