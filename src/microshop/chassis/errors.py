"""Every failure leaves a service as JSON `{"error": "...", ...}` with the right status."""

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger()


class ApiError(Exception):
    """Raise from a use case or route to answer `{"error": message}` with `status`."""

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, **extra: object
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers
        # Further fields of the JSON body, e.g. {"error": "Insufficient stock", "available": 3}.
        self.extra = extra


class NotFound(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(404, message)


class Conflict(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(409, message)


class Forbidden(ApiError):
    def __init__(self, message: str = "Forbidden") -> None:
        super().__init__(403, message)


class Unauthorized(ApiError):
    def __init__(self, message: str = "Not authenticated") -> None:
        super().__init__(401, message, headers={"WWW-Authenticate": "Bearer"})


class ServiceUnavailable(ApiError):
    """A downstream service could not answer; the caller degrades with a 503."""

    def __init__(self, service: str, retry_after: int = 1) -> None:
        super().__init__(503, f"{service} unavailable", headers={"Retry-After": str(retry_after)})
        self.service = service
        self.retry_after = retry_after


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


_STATUS_MESSAGES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}


def _validation_details(exc: RequestValidationError) -> list[dict[str, object]]:
    return [
        {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "message": err.get("msg", "")}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def on_api_error(_: Request, exc: ApiError) -> JSONResponse:
        extra = dict(exc.extra)
        if isinstance(exc, ServiceUnavailable):
            extra["retry_after"] = exc.retry_after
        return error_response(exc.status, exc.message, exc.headers, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else None
        if not message or message == _default_phrase(exc.status_code):
            message = _STATUS_MESSAGES.get(exc.status_code, message or "Error")
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # A body that is not JSON at all is a 400, not a schema violation.
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return error_response(400, "Malformed JSON body")
        return error_response(422, "Invalid request", details=_validation_details(exc))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return error_response(500, "Internal server error")


def _default_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
