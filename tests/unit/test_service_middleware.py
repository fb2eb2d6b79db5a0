import asyncio
from typing import Any

from microshop.chassis.middleware import ServiceMiddleware


async def ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def get(app: ServiceMiddleware, path: str) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    await app(scope, receive, send)
    return int(sent[0]["status"])


def test_requests_served_counts_what_users_asked_not_health_checks_or_scrapes() -> None:
    app = ServiceMiddleware(ok, max_bytes=1024)

    async def traffic() -> None:
        for path in ("/health/ready", "/health", "/metrics", "/api/orders", "/api/orders/7"):
            assert await get(app, path) == 200

    asyncio.run(traffic())
    assert app.served == 2
