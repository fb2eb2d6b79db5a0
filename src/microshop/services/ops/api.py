"""The console's data as JSON, for scripts and `microshop trace` (admins, or a
caller holding the system's service credential, as `microshop saga list` does):

GET /ops/api/orders/{order_id}/traces    ["<trace id>", ...]   oldest first
GET /ops/api/traces/{trace_id}           [{"span_id", "parent_id", "service", ...}, ...]
"""

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from microshop.chassis.auth import Principal
from microshop.chassis.errors import error_response
from microshop.chassis.lean import reply
from microshop.chassis.service_auth import HEADER
from microshop.contracts.errors import Unauthorized
from microshop.services.ops import trace_store
from microshop.services.ops.session import NotSignedIn, principal

router = APIRouter(prefix="/ops/api", include_in_schema=False)


async def _refusal(request: Request) -> Response | None:
    if request.headers.get(HEADER):
        try:
            request.app.state.service_credential.verify(request.headers.get(HEADER))
            return None
        except Unauthorized as exc:
            return error_response(401, exc.message)
    try:
        user: Principal = await principal(request)
    except NotSignedIn:
        return error_response(401, "Not authenticated")
    return None if user.is_admin else error_response(403, "Admin role required")


@router.get("/orders/{order_id}/traces")
async def order_traces(request: Request, order_id: str) -> Response:
    if refused := await _refusal(request):
        return refused
    if not order_id.isdigit() or not 0 < int(order_id) < 2**31:
        return error_response(422, "order_id must be a whole number from 1")
    return reply(await trace_store.traces_of_order(request.app.state.db, int(order_id)))


@router.get("/traces/{trace_id}")
async def trace(request: Request, trace_id: str) -> Response:
    if refused := await _refusal(request):
        return refused
    if len(trace_id) != 32 or not all(c in "0123456789abcdef" for c in trace_id):
        return error_response(422, "trace_id must be 32 hexadecimal digits")
    rows = await trace_store.trace_spans(request.app.state.db, trace_id)
    if not rows:
        return error_response(404, "No such trace is kept")
    return reply([{**row, "attributes": orjson.loads(row["attributes"])} for row in rows])
