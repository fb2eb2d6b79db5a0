"""Every failure leaves a service as JSON `{"error": "...", ...}` with the right status.

The one table from a kind of refusal (contracts/errors.py) to its HTTP status is
here; use cases raise the kinds and never see a status code. An unexpected error
is answered 500 by the service middleware (middleware.py), which keeps the
connection usable.
"""

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from microshop.chassis.responses import JsonResponse
from microshop.contracts.errors import (
    BadUpstream,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unavailable,
)

STATUS: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthorized: 401,
    Unavailable: 503,
    BadUpstream: 502,
}

_STATUS_MESSAGES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}


def status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 422


def headers_of(error: DomainError) -> dict[str, str] | None:
    if isinstance(error, Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, Unavailable):
        return {"Retry-After": str(error.retry_after)}
    return None


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: object
) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, object]]:
    return [
        {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "message": err.get("msg", "")}
        for err in exc.errors()
    ]


def _default_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def refusal_response(exc: DomainError) -> JsonResponse:
    return error_response(status_of(exc), exc.message, headers_of(exc), **exc.details)


def invalid_request_response(exc: RequestValidationError) -> JsonResponse:
    # A body that is not JSON at all is a 400, not a schema violation.
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return error_response(400, "Malformed JSON body")
    return error_response(422, "Invalid request", details=_validation_details(exc))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def on_domain_error(_: Request, exc: DomainError) -> JsonResponse:
        return refusal_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JsonResponse:
        message = exc.detail if isinstance(exc.detail, str) else None
        if not message or message == _default_phrase(exc.status_code):
            message = _STATUS_MESSAGES.get(exc.status_code, message or "Error")
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(_: Request, exc: RequestValidationError) -> JsonResponse:
        return invalid_request_response(exc)
