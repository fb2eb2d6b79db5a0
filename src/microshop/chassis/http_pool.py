"""Keep-alive HTTP/1.1 connections to the other services, one small pool per instance.

The service client sends about four calls per order. Through aiohttp's client each
cost 110-150 µs of CPU on the caller's side; this costs about 50 (measured here,
one request at a time on a reused connection, JSON in and out). It does only what
calls between our services need: a request with a body or none, a response with a
status and a body (Content-Length or chunked, decoded by httptools, the parser
uvicorn uses; no HEAD, whose answer has no body to wait for), connections reused until the peer or the idle timeout closes them.
No redirects, no cookies, no TLS, no proxies: that is what aiohttp is for.

    pool = HttpPool(per_instance=100, idle_s=4.0)
    status, body = await pool.request("http://127.0.0.1:8102", "GET", "/products/1", None, {})

Raises NeverArrived when no connection could be made (the request was not sent, so
another instance may take it whatever its method) and RequestFailed when the
connection broke or the answer did not parse. The caller bounds the time.
"""

import asyncio
import time
from collections import deque
from urllib.parse import urlsplit

import httptools


class RequestFailed(Exception):
    """The request may have reached the peer; its answer did not come back whole."""


class NeverArrived(RequestFailed):
    """No connection: the request was never sent."""


class _Connection(asyncio.Protocol):
    __slots__ = ("_body", "_done", "_keep_alive", "closed", "idle_since", "parser", "transport")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._body: list[bytes] = []
        self._keep_alive = False
        self._done: asyncio.Future[tuple[int, bytes]] | None = None

    # -- asyncio ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(RequestFailed(f"unreadable answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(RequestFailed(f"connection closed before the answer: {exc!r}"))

    # -- httptools ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._body = []

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._keep_alive = self.parser.should_keep_alive()
        if self._done is not None and not self._done.done():
            self._done.set_result((self.parser.get_status_code(), b"".join(self._body)))

    # -- ours ---------------------------------------------------------------------

    def send(self, request: bytes) -> "asyncio.Future[tuple[int, bytes]]":
        assert self.transport is not None
        self._done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._done

    @property
    def reusable(self) -> bool:
        return self._keep_alive and not self.closed

    def _fail(self, error: RequestFailed) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(error)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Instance:
    """The idle connections to one instance, and a cap on how many it gets at once
    (a bulkhead: a slow instance makes callers wait, never piles up sockets)."""

    def __init__(self, base_url: str, limit: int) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not an http:// base URL: {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.authority = f"{self.host}:{self.port}".encode()
        self.idle: deque[_Connection] = deque()
        self.slots = asyncio.Semaphore(limit)

    async def connection(self, idle_s: float) -> _Connection:
        cutoff = time.monotonic() - idle_s
        while self.idle:
            connection = self.idle.pop()  # the most recent: the least likely to be closing
            if not connection.closed and connection.idle_since > cutoff:
                return connection
            connection.close()
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(_Connection, self.host, self.port)
        except OSError as exc:
            raise NeverArrived(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        return connection


class HttpPool:
    def __init__(self, per_instance: int = 100, idle_s: float = 4.0) -> None:
        self.per_instance = per_instance
        # Below uvicorn's keep-alive timeout (5 s): reusing a connection the peer is
        # closing would fail a request that never reached it.
        self.idle_s = idle_s
        self._instances: dict[str, _Instance] = {}

    async def request(
        self,
        base_url: str,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
    ) -> tuple[int, bytes]:
        instance = self._instances.get(base_url)
        if instance is None:
            instance = self._instances[base_url] = _Instance(base_url, self.per_instance)
        async with instance.slots:
            request = _request(instance, method, path, body, headers)
            connection = await instance.connection(self.idle_s)
            try:
                status, answer = await connection.send(request)
            except BaseException:
                connection.close()  # half a conversation: never reuse it
                raise
            if connection.reusable:
                connection.idle_since = time.monotonic()
                instance.idle.append(connection)
            else:
                connection.close()
            return status, answer

    def close(self) -> None:
        for instance in self._instances.values():
            while instance.idle:
                instance.idle.pop().close()
        self._instances.clear()


def _request(
    instance: _Instance, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + instance.authority]
    for name, value in headers.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"header {name} holds a line break")  # never split a request
        lines.append(f"{name}: {value}".encode("latin-1"))
    payload = body or b""
    if payload or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
        lines.append(b"Content-Length: %d" % len(payload))
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload
