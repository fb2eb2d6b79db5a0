"""Every failure of a page is a page: a sentence saying what happened and what to
do, with the right status, never a stack trace or the API's JSON.

The chassis answers JSON (errors.py there); the storefront installs these
handlers over them. A page needing a signed-in shopper, or a session that expired
in the middle of a call, sends the browser to the sign-in page and back.
"""

from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from microshop.chassis.errors import status_of
from microshop.contracts.errors import DomainError, Unauthorized, Unavailable
from microshop.services.web.visit import SESSION_COOKIE, FormRefused, SignInFirst, current_visit

log = structlog.get_logger()

TITLES = {
    400: "That request could not be understood",
    403: "Not allowed",
    404: "Not found",
    405: "Not available this way",
    409: "That cannot be done now",
    413: "Too large",
    422: "Please check what you sent",
    502: "Something went wrong behind the scenes",
    503: "Temporarily unavailable",
    500: "Something went wrong",
}
SENTENCES = {
    400: "The address or the form could not be understood.",
    403: "You are not allowed to do that.",
    404: "There is no page at this address.",
    405: "This page cannot be used that way.",
    413: "What you sent is too large.",
    500: "Something went wrong on our side. Please try again in a moment.",
}
FORM_REFUSED = (
    "This form could not be accepted: it did not come from a page of this shop, or "
    "the page had been open for too long. Please go back, reload the page and try again."
)
# Bare minimum when even the error page cannot be rendered.
FALLBACK = "<!doctype html><title>Error</title><p>Something went wrong. Please try again.</p>"


async def error_page(request: Request, status: int, message: str) -> Response:
    try:
        visit = await current_visit(request)
        return visit.render(
            "error.html", status, title=TITLES.get(status, "Error"), message=message
        )
    except Exception:
        log.exception("the error page could not be rendered", status=status)
        return HTMLResponse(FALLBACK, status_code=status)


def page_to_return_to(request: Request) -> str:
    """The page to come back to after signing in: the one asked for, or for a form
    posted from it, the page the form was on (a post cannot be replayed)."""
    path = request.url.path
    if request.method == "GET":
        return path + ("?" + request.url.query if request.url.query else "")
    if path.startswith(("/cart", "/checkout")):
        return "/cart"
    if path.startswith("/orders/"):
        return path.removesuffix("/cancel")
    return "/"


def sign_in_redirect(request: Request, expired: bool) -> Response:
    back = page_to_return_to(request)
    target = "/account/sign-in?next=" + quote(back, safe="")
    response = RedirectResponse(target + ("&expired=1" if expired else ""), status_code=303)
    if expired:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def unavailable_sentence(exc: Unavailable) -> str:
    part = exc.service.replace("_", " ")
    return (
        f"The {part} service is not answering right now, so this page cannot be shown. "
        f"Please try again in a moment."
    )


def install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInFirst)
    async def on_sign_in_first(request: Request, _: SignInFirst) -> Response:
        return sign_in_redirect(request, expired=False)

    @app.exception_handler(FormRefused)
    async def on_form_refused(request: Request, _: FormRefused) -> Response:
        return await error_page(request, 403, FORM_REFUSED)

    @app.exception_handler(DomainError)
    async def on_refusal(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, Unauthorized):
            return sign_in_redirect(request, expired=True)
        if isinstance(exc, Unavailable):
            response = await error_page(request, 503, unavailable_sentence(exc))
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return await error_page(request, status_of(exc), exc.message)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, exc: HTTPException) -> Response:
        message = SENTENCES.get(exc.status_code, "That request could not be answered.")
        return await error_page(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, _: RequestValidationError) -> Response:
        return await error_page(request, 400, SENTENCES[400])

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Starlette logs it and re-raises it after this page is sent; the chassis
        # middleware then sees a response already started and keeps the connection.
        return await error_page(request, 500, SENTENCES[500])
