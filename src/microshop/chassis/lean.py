"""Lean routes: plain Starlette endpoints for the paths every order or every page
view takes.

FastAPI's dependency solving and route matching cost about half of such a
request's CPU (measured: 465 µs in-process through FastAPI for a charge, 268
lean). So these are lean: the body is validated by pydantic straight from the
bytes, the answer dumped by pydantic straight to bytes, and errors go through the
same handlers as every other route (chassis/errors.py). They are answered before
FastAPI (and the middleware it stacks up) is entered at all: LeanDispatch. Routes other services call (`/internal/...`) are only lean and
never in the public OpenAPI (the gateway does not route them); a hot public route
keeps its FastAPI twin for the OpenAPI document, and the lean one serves it.

    internal = LeanRoutes("/internal/payments")

    @internal.post_json("", PaymentCreate)
    async def charge(request: Request, new: PaymentCreate) -> Response:
        return reply(PaymentPublic.model_validate(payment), status=201)
"""

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from microshop.chassis.data import Database
from microshop.chassis.errors import invalid_request_response, refusal_response
from microshop.chassis.paging import MAX_ID, MAX_PAGE, Page
from microshop.chassis.service_auth import HEADER, ServiceCredential
from microshop.contracts.errors import DomainError

Body = TypeVar("Body", bound=BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]
BodyHandler = Callable[[Request, Body], Awaitable[Response]]


def reply(
    content: BaseModel | dict[str, Any] | list[Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    body = (
        content.model_dump_json().encode()
        if isinstance(content, BaseModel)
        else orjson.dumps(content)
    )
    return Response(body, status, headers, media_type="application/json")


async def _parsed(request: Request, body: type[Body]) -> Body:
    try:
        return body.model_validate_json(await request.body())
    except ValidationError as exc:
        raise _invalid(exc, "body") from None


def _invalid(exc: ValidationError, where: str) -> RequestValidationError:
    errors = exc.errors(include_url=False)
    for error in errors:
        error["loc"] = (where, *error.get("loc", ()))
    return RequestValidationError(errors)


def invalid(where: str, name: str, message: str) -> RequestValidationError:
    """The 422 FastAPI gives for a bad parameter, for a lean route to raise."""
    return RequestValidationError([{"loc": (where, name), "msg": message, "type": "value_error"}])


def _id(value: str | None, where: str, name: str) -> int:
    if value is None:
        raise invalid(where, name, "Field required")
    try:
        number = int(value)
    except ValueError:
        raise invalid(where, name, "Input should be a valid integer") from None
    if not 1 <= number <= MAX_ID:
        raise invalid(where, name, f"Input should be between 1 and {MAX_ID}")
    return number


def query_text(request: Request, name: str, max_length: int) -> str:
    value = request.query_params.get(name, "")
    if len(value) > max_length:
        raise invalid("query", name, f"String should have at most {max_length} characters")
    return value


def _bounded(request: Request, name: str, default: int, low: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise invalid("query", name, "Input should be a valid integer") from None
    if not low <= number <= MAX_ID:
        raise invalid("query", name, f"Input should be between {low} and {MAX_ID}")
    return number


def page_of(request: Request) -> Page:
    """`?limit=&offset=` checked exactly as chassis.paging.page checks them."""
    limit = _bounded(request, "limit", MAX_PAGE, 1)
    return Page(limit=min(limit, MAX_PAGE), offset=_bounded(request, "offset", 0, 0))


def path_id(request: Request, name: str) -> int:
    """An id from the path, checked like every id: 1..2^31-1, else 422."""
    return _id(request.path_params.get(name), "path", name)


def query_id(request: Request, name: str) -> int:
    return _id(request.query_params.get(name), "query", name)


def database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def _checked(handler: Endpoint) -> Endpoint:
    """Only a caller holding the service credential reaches an /internal route."""

    async def endpoint(request: Request) -> Response:
        credential: ServiceCredential = request.app.state.service_credential
        credential.verify(request.headers.get(HEADER))
        return await handler(request)

    return endpoint


@dataclass(frozen=True)
class LeanEntry:
    method: str
    path: str
    endpoint: Endpoint
    pattern: re.Pattern[str] | None  # None: an exact path


class LeanRoutes:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.entries: list[LeanEntry] = []
        self.internal = prefix.startswith("/internal")

    def post_json(self, path: str, body: type[Body]) -> Callable[[BodyHandler[Body]], Endpoint]:
        """A POST whose JSON body is validated as `body` before the handler runs."""
        return self._json_route(path, body, "POST")

    def post(self, path: str) -> Callable[[Endpoint], Endpoint]:
        """A POST that takes no body."""
        return self._route(path, "POST")

    def get(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self._route(path, "GET")

    def put_json(self, path: str, body: type[Body]) -> Callable[[BodyHandler[Body]], Endpoint]:
        return self._json_route(path, body, "PUT")

    def _json_route(
        self, path: str, body: type[Body], method: str
    ) -> Callable[[BodyHandler[Body]], Endpoint]:
        def decorate(handler: BodyHandler[Body]) -> Endpoint:
            async def endpoint(request: Request) -> Response:
                return await handler(request, await _parsed(request, body))

            self._add(path, endpoint, method)
            return endpoint

        return decorate

    def _route(self, path: str, method: str) -> Callable[[Endpoint], Endpoint]:
        def decorate(handler: Endpoint) -> Endpoint:
            self._add(path, handler, method)
            return handler

        return decorate

    def _add(self, path: str, endpoint: Endpoint, method: str) -> None:
        checked = _checked(endpoint) if self.internal else endpoint
        full = self.prefix + path
        pattern = compile_path(full)[0] if "{" in full else None
        self.entries.append(LeanEntry(method, full, checked, pattern))


class LeanDispatch:
    """The outermost layer of a service's app: a request for a lean route is answered
    here; anything else (and the lifespan) goes on to FastAPI's own stack."""

    def __init__(self, app: ASGIApp, groups: Sequence[LeanRoutes]) -> None:
        self.app = app
        self.exact: dict[tuple[str, str], Endpoint] = {}
        self.patterned: list[LeanEntry] = []
        for entry in (e for group in groups for e in group.entries):
            if entry.pattern is None:
                self.exact[(entry.method, entry.path)] = entry.endpoint
            else:
                self.patterned.append(entry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = self._match(scope)
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await endpoint(Request(scope, receive))
        except DomainError as exc:
            response = refusal_response(exc)
        except RequestValidationError as exc:
            response = invalid_request_response(exc)
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> Endpoint | None:
        method, path = scope["method"], scope["path"]
        found = self.exact.get((method, path))
        if found is not None:
            scope["route_template"] = path
            return found
        # Another method on a lean path goes on to FastAPI, which has the twin routes
        # (POST /products) or answers 405 itself.
        for entry in self.patterned:
            matched = entry.pattern.match(path) if entry.pattern else None
            if matched is not None and entry.method == method:
                scope["path_params"] = matched.groupdict()
                scope["route_template"] = entry.path
                return entry.endpoint
        return None
