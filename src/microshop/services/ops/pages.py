"""The console's pages: the overview (live over server-sent events), an order's
saga timeline and traces, one trace's waterfall, and the sign-in page.

Every page needs an administrator: no session sends the browser to /ops/login,
another role gets a 403 page.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import APIRouter, Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from microshop.chassis.auth import Principal
from microshop.chassis.data import Row
from microshop.contracts.errors import Unavailable
from microshop.services.ops import trace_store
from microshop.services.ops.domain import Bar, services_in, waterfall
from microshop.services.ops.fleet import Fleet, InstanceView, dead_letters
from microshop.services.ops.render import TEMPLATES, fragment, page, problem
from microshop.services.ops.session import NotSignedIn, principal

router = APIRouter(prefix="/ops", include_in_schema=False)

STATIC = {"ops.css": "text/css", "ops.js": "text/javascript"}
STATIC_DIR = TEMPLATES.parent / "static"
LETTERS_SHOWN = 50
# An SSE stream ends before the gateway's route timeout (15 s); the browser's
# EventSource reconnects by itself after `retry`.
STREAM_FOR_S = 12.0
STREAM_EVERY_S = 2.0
FLASH_COOKIE = "ops_flash"
NOT_CHAOS_TARGETS = {"ops"}  # stopping the console from the console would end it


@dataclass(frozen=True)
class TraceView:
    trace_id: str
    bars: list[Bar]
    services: list[str]
    total_ms: float


async def admin(request: Request) -> Principal | Response:
    """The signed-in admin, or the page to answer instead (sign in, or 403)."""
    try:
        user = await principal(request)
    except NotSignedIn:
        return RedirectResponse("/ops/login", status_code=303)
    if not user.is_admin:
        return problem(
            request,
            403,
            "Administrators only",
            "The ops console is for administrators; this account is not one. "
            "Sign in with an administrator's account.",
        )
    return user


Page = Callable[[Request, Principal], Awaitable[Response]]


def for_admins(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        user = await admin(request)
        if isinstance(user, Response):
            return user
        return await handler(request, user)

    return endpoint


def fleet(request: Request) -> Fleet:
    return request.app.state.fleet  # type: ignore[no-any-return]


async def panels(request: Request) -> dict[str, Any]:
    """What the live part of the overview shows, read now."""
    views = await fleet(request).instances()
    orders = next((v.url for v in views if v.service == "orders" and v.state == "running"), None)
    events = request.app.state.events
    sagas, letters = await asyncio.gather(
        fleet(request).unfinished_sagas(orders),
        dead_letters(events.bus if events is not None else None),
    )
    return {
        "instances": views,
        "sagas": sagas,
        "letters": letters[:LETTERS_SHOWN] if letters is not None else None,
        "letters_more": max(len(letters) - LETTERS_SHOWN, 0) if letters else 0,
        "updated": time.strftime("%H:%M:%S"),
    }


def chaos_targets(views: list[InstanceView]) -> list[str]:
    return sorted({v.service for v in views} - NOT_CHAOS_TARGETS)


async def overview(request: Request, _: Principal) -> Response:
    live = await panels(request)
    db = request.app.state.db
    flash = unquote(request.cookies.get(FLASH_COOKIE, ""))
    kind, _, message = flash.partition(":")
    response = page(
        request,
        "overview.html",
        signed_in=True,
        chaos_services=chaos_targets(live["instances"]),
        recent=await trace_store.recent_traces(db),
        trace_count=await trace_store.trace_count(db),
        flash=message[:500],
        flash_kind=kind if kind in ("ok", "error") else "ok",
        **live,
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/ops")
    return response


def _sse(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines())
    return f"event: {event}\n{lines}\n".encode()


async def stream(request: Request, _: Principal) -> Response:
    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_FOR_S
        while loop.time() < ends:
            if await request.is_disconnected():
                return
            live = await panels(request)
            yield _sse(
                "panels", fragment("panels.html", csrf=request.cookies.get("ops_csrf", ""), **live)
            )
            await asyncio.sleep(STREAM_EVERY_S)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def trace_view(trace_id: str, rows: list[Row]) -> TraceView:
    spans = [{**row, "attributes": orjson.loads(row["attributes"])} for row in rows]
    bars = waterfall(spans)
    total = (max(s["end_ns"] for s in spans) - min(s["start_ns"] for s in spans)) / 1e6
    return TraceView(trace_id, bars, services_in(bars), round(total, 2))


def _order_id(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


async def order_lookup(request: Request, _: Principal) -> Response:
    order_id = _order_id(request.query_params.get("id", "").strip())
    if order_id is None:
        return problem(
            request, 400, "Not an order id", "An order id is a whole number, such as 42."
        )
    return RedirectResponse(f"/ops/orders/{order_id}", status_code=303)


async def order_page(request: Request, user: Principal) -> Response:
    order_id = _order_id(request.path_params["order_id"])
    if order_id is None:
        return problem(
            request, 400, "Not an order id", "An order id is a whole number, such as 42."
        )
    db = request.app.state.db
    traces = [
        trace_view(trace_id, await trace_store.trace_spans(db, trace_id))
        for trace_id in await trace_store.traces_of_order(db, order_id)
    ]
    order, order_problem, unknown = None, "", False
    try:
        reply = await request.app.state.client.get(
            "orders", f"/orders/{order_id}", token=user.token
        )
        if reply.status == 200:
            order = reply.body
        elif reply.status == 404:
            unknown = True
            order_problem = f"The orders service knows no order {order_id}."
        else:
            order_problem = f"The orders service answered {reply.status} for this order."
    except Unavailable:
        order_problem = "The orders service is unavailable: the saga timeline cannot be shown now."
    if unknown and not traces:
        return problem(request, 404, "No such order", order_problem)
    return page(
        request,
        "order.html",
        signed_in=True,
        order_id=order_id,
        order=order,
        order_problem=order_problem,
        traces=traces,
    )


async def trace_page(request: Request, _: Principal) -> Response:
    trace_id = request.path_params["trace_id"]
    if len(trace_id) != 32 or not all(c in "0123456789abcdef" for c in trace_id):
        return problem(request, 400, "Not a trace id", "A trace id is 32 hexadecimal digits.")
    rows = await trace_store.trace_spans(request.app.state.db, trace_id)
    if not rows:
        return problem(
            request, 404, "No such trace", "This trace is not kept (or never was received)."
        )
    return page(request, "trace.html", signed_in=True, trace=trace_view(trace_id, rows))


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        return problem(request, 404, "Not found", "There is no such file.")
    return FileResponse(
        STATIC_DIR / name,
        media_type=STATIC[name],
        headers={"Cache-Control": "max-age=300"},
    )


router.add_api_route("", for_admins(overview), methods=["GET"])
router.add_api_route("/stream", for_admins(stream), methods=["GET"])
router.add_api_route("/orders", for_admins(order_lookup), methods=["GET"])
router.add_api_route("/orders/{order_id}", for_admins(order_page), methods=["GET"])
router.add_api_route("/traces/{trace_id}", for_admins(trace_page), methods=["GET"])
router.add_api_route("/static/{name}", static_file, methods=["GET"])
