"""One page request as the storefront sees it: who is signed in, what is in the
cart, and the visitor's CSRF secret; and the cookies that carry all three.

    @router.get("/cart")
    async def cart_page(visit: CurrentVisit) -> HTMLResponse:
        return visit.render("cart.html", ...)

The session cookie holds the same JWT the API issues (users' /auth/token),
HttpOnly (no script can read it) and SameSite=Lax (no other site's form or fetch
sends it). It is checked here with the chassis verifier on every request, so an
expired or forged token is simply "signed out".
"""

import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from microshop.chassis.auth import Principal, TokenVerifier
from microshop.chassis.client import ServiceClient
from microshop.contracts.errors import Unauthorized, Unavailable
from microshop.services.web import csrf, templating
from microshop.services.web.domain import Cart

SESSION_COOKIE = "microshop_session"
CART_COOKIE = "microshop_cart"
MAX_TOKEN = 4096
CART_DAYS = 30
# Scripts, styles and form targets from this site only: even a string that escaped
# escaping could neither run inline script nor post a form elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# A form has a handful of fields; anything bigger is not one of ours.
MAX_FORM_FIELDS = 20


class SignInFirst(Exception):
    """The page needs a signed-in shopper; errors.py sends them to sign in."""


class FormRefused(Exception):
    """A post without a valid CSRF token: not from one of our pages, or too old."""


@dataclass
class Visit:
    request: Request
    visitor: Principal | None
    cart: Cart
    csrf_secret: str
    new_csrf_secret: bool
    # Cookies to set on whatever response the page ends with.
    cookies: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def client(self) -> ServiceClient:
        return self.request.app.state.client  # type: ignore[no-any-return]

    @property
    def settings(self) -> Any:
        return self.request.app.state.settings

    @cached_property
    def csrf_token(self) -> str:
        guard: csrf.CsrfGuard = self.request.app.state.csrf
        return guard.token_for(self.csrf_secret)

    def token(self) -> str:
        """The signed-in shopper's bearer token, for calls made on their behalf."""
        if self.visitor is None or self.visitor.token is None:
            raise SignInFirst
        return self.visitor.token

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = templating.render(template, page=self, **context)
        return self.finish(HTMLResponse(body, status_code=status))

    def redirect(self, to: str) -> RedirectResponse:
        """303: after a post, the browser fetches the next page with a GET."""
        return self.finish(RedirectResponse(to, status_code=303))  # type: ignore[return-value]

    def keep_cart(self, cart: Cart) -> None:
        self.cart = cart
        self.cookies[CART_COOKIE] = (cart.encode(), CART_DAYS * 86400 if cart.lines else 0)

    def sign_in(self, token: str, seconds: int) -> None:
        self.cookies[SESSION_COOKIE] = (token, seconds)

    def sign_out(self) -> None:
        self.visitor = None
        self.cookies[SESSION_COOKIE] = ("", 0)

    def finish(self, response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        if self.new_csrf_secret:
            self.cookies.setdefault(csrf.COOKIE, (self.csrf_secret, 0))
        for name, (value, max_age) in self.cookies.items():
            _set_cookie(response, name, value, max_age, self.settings.cookie_secure)
        return response


def _set_cookie(response: Response, name: str, value: str, max_age: int, secure: bool) -> None:
    """max_age 0: deleted for the session and cart when emptied; the CSRF cookie
    (max_age 0 here too) lives as long as the browser session."""
    if not value:
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
        return
    response.set_cookie(
        name,
        value,
        max_age=max_age or None,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


async def _visitor(request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN:
        return None
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify(token)
    except (Unauthorized, Unavailable):
        # Expired, forged, or the users' keys cannot be fetched right now: the
        # page is shown signed out, and signing in again says what is wrong.
        return None


async def current_visit(request: Request) -> Visit:
    secret = request.cookies.get(csrf.COOKIE, "")
    fresh = not (20 <= len(secret) <= 100)
    return Visit(
        request=request,
        visitor=await _visitor(request),
        cart=Cart.decode(request.cookies.get(CART_COOKIE)),
        csrf_secret=csrf.CsrfGuard.new_secret() if fresh else secret,
        new_csrf_secret=fresh,
    )


async def signed_in_visit(visit: Annotated[Visit, Depends(current_visit)]) -> Visit:
    if visit.visitor is None:
        raise SignInFirst
    return visit


async def posted_form(request: Request) -> FormData:
    """The posted form, once its CSRF token is checked against the visitor's cookie."""
    guard: csrf.CsrfGuard = request.app.state.csrf
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise FormRefused
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    token = form.get(csrf.FIELD)
    secret = request.cookies.get(csrf.COOKIE)
    if not guard.accepts(secret, token if isinstance(token, str) else None):
        raise FormRefused
    return form


def text(form: FormData, name: str, limit: int = 500) -> str:
    """A text field of a form; absent is empty, and nothing longer than `limit`."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


CurrentVisit = Annotated[Visit, Depends(current_visit)]
SignedInVisit = Annotated[Visit, Depends(signed_in_visit)]
PostedForm = Annotated[FormData, Depends(posted_form)]


def idempotency_key() -> str:
    return secrets.token_urlsafe(24)
