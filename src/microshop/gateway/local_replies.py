"""The replies Envoy makes itself (no route, rate limit, refused token, oversized body,
unreachable service, malformed request): JSON like the services' own errors, each
with a sentence that says what was wrong, and with the security headers.

Envoy's own text (%LOCAL_REPLY_BODY%) is empty for some of them (a NUL in the path
gets a bare 400), so every status gets its sentence here; only the token check's
text is kept, as the reason, because it says which check the token failed.
Only error statuses are mapped: `/`, `/health` and `/api/docs` are local replies too.
"""

from microshop.gateway.headers import JsonObject, header, security_headers

# %ROUTE_NAME% is the service's name (envoy_config names each route after its service).
SENTENCES: dict[int, str] = {
    400: "Bad request: the path or a header is malformed",
    404: "Not found",
    408: "Request timeout: the request did not arrive in time",
    426: "Upgrade required: use HTTP/1.1 or later",
    431: "Request headers too large",
    502: "%ROUTE_NAME% sent an invalid response",
    504: "%ROUTE_NAME% timed out",
}
TOKEN_REFUSAL: JsonObject = {"error": "Invalid token", "reason": "%LOCAL_REPLY_BODY%"}
# A status no sentence covers still says which of Envoy's checks answered.
UNEXPECTED_REFUSAL: JsonObject = {
    "error": "The gateway refused the request",
    "detail": "%RESPONSE_CODE_DETAILS%",
}
# jwt_authn answers a token for another audience with 403 and every other bad token
# with 401, while the API promises 401 for every invalid token.
_FROM_TOKEN_CHECK = "response.code_details.startsWith('jwt_authn')"
CEL_FILTER = "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter"


def local_reply_config(*, retry_after: int, max_body_bytes: int) -> JsonObject:
    """retry_after: the rate limit's, in seconds; max_body_bytes: the buffer filter's."""
    mappers = [
        _reply(_and(_status("EQ", 403), _cel(_FROM_TOKEN_CHECK)), TOKEN_REFUSAL, new_status=401),
        _reply(_status("EQ", 401), TOKEN_REFUSAL),
        _reply(
            _status("EQ", 429),
            {"error": "Too many requests", "retry_after": retry_after},
            [header("retry-after", str(retry_after))],
        ),
        _reply(
            _status("EQ", 413), {"error": "Request body too large", "max_bytes": max_body_bytes}
        ),
        _reply(
            _status("EQ", 503),
            {"error": "%ROUTE_NAME% unavailable", "retry_after": 1},
            [header("retry-after", "1")],
        ),
        *(_reply(_status("EQ", code), {"error": text}) for code, text in SENTENCES.items()),
        _reply(_status("GE", 400), UNEXPECTED_REFUSAL),
    ]
    return {"mappers": mappers}


def _reply(
    match: JsonObject,
    body: JsonObject,
    headers: list[JsonObject] | None = None,
    new_status: int | None = None,
) -> JsonObject:
    mapper: JsonObject = {
        "filter": match,
        "body_format_override": {"json_format": body},
        # Most local replies (no route, rate limit, malformed request) skip the
        # route configuration's response headers, so every one carries its own.
        "headers_to_add": [*(headers or []), *security_headers()],
    }
    if new_status is not None:
        mapper["status_code"] = new_status
    return mapper


def _status(op: str, code: int) -> JsonObject:
    runtime_key = f"microshop.reply_{code}" if op == "EQ" else "microshop.reply_error"
    value = {"default_value": code, "runtime_key": runtime_key}
    return {"status_code_filter": {"comparison": {"op": op, "value": value}}}


def _cel(expression: str) -> JsonObject:
    return {
        "extension_filter": {
            "name": "envoy.access_loggers.extension_filters.cel",
            "typed_config": {"@type": CEL_FILTER, "expression": expression},
        }
    }


def _and(*filters: JsonObject) -> JsonObject:
    return {"and_filter": {"filters": list(filters)}}
