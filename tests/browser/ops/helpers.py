"""What the console tests do outside the browser: call the API through the
gateway, put a poison event on the bus, keep the docs' screenshots."""

import asyncio
import json
import os
import tempfile
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from microshop.chassis.bus import Outgoing, connect_bus
from tests.e2e.system import System

# The docs' pictures are retaken with MICROSHOP_UPDATE_SCREENSHOTS=1 (then commit
# them); otherwise a run writes them aside, leaving the work tree as it was.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
SCREENSHOTS = (
    DOCS_SCREENSHOTS
    if os.environ.get("MICROSHOP_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "microshop-screenshots"
)


def sign_in(page: Any, system: System, email: str, password: str) -> None:
    page.goto(f"{system.url}/ops")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in(page: Any, system: System) -> None:
    """Waits for the console after signing in; fails with the page's own words if
    the sign-in was refused (e.g. the users service too slow on a busy machine)."""
    page.wait_for_function(
        "() => location.pathname === '/ops' || document.querySelector('[role=alert]')"
    )
    if page.url != f"{system.url}/ops":
        raise AssertionError(f"not signed in: {page.locator('[role=alert]').inner_text()}")


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def call(
    system: System,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    **headers: str,
) -> tuple[int, Any]:
    """The API through the gateway, without an event loop (Playwright's sync API has one)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(system.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:
            raw, status = reply.read(), reply.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def token(system: System, email: str, password: str) -> str:
    status, reply = call(system, "POST", "/api/auth/token", {"email": email, "password": password})
    assert status == 200, reply
    return str(reply["access_token"])


def customer(system: System, name: str) -> tuple[int, str]:
    """A new customer's id and token."""
    email = f"{abs(hash(name)) % 10**8}@example.com"
    password = "customer-password-1"
    status, user = call(
        system, "POST", "/api/users", {"name": name, "email": email, "password": password}
    )
    assert status == 201, user
    return int(user["id"]), token(system, email, password)


def poison_event(system: System, marker: str) -> str:
    """An order.created no consumer can read, published on the system's bus: after
    its retries each consumer dead-letters it. Returns its event id."""
    state = system.state()
    event_id = str(uuid.uuid4())
    envelope = {
        "id": event_id,
        "type": "order.created",
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": "orders",
        "data": {"id": marker},
    }

    async def publish() -> None:
        bus = connect_bus(state["broker_url"], state["bus_prefix"])
        try:
            await bus.start()
            body = json.dumps(envelope).encode()
            assert await bus.publish([Outgoing(body, "order.created", event_id)]) == [True]
        finally:
            await bus.close()

    # In a thread of its own: Playwright's sync API holds this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish()).result(timeout=30)
    return event_id
