"""Who is at the console, and the CSRF check of its forms.

The admin signs in with e-mail and password on /ops/login; the users service's
JWT is kept in an HttpOnly, SameSite=Strict cookie scoped to /ops, and verified
on every page like a bearer token (which also works: `Authorization: Bearer`).

Every form carries a CSRF token that must equal the `ops_csrf` cookie (double
submit): another site can make a browser post a form here, but can neither read
nor set that cookie, so its post is refused.
"""

import hmac
import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis.auth import OPEN_PRINCIPAL, Principal, TokenVerifier
from microshop.contracts.errors import Unauthorized

SESSION_COOKIE = "ops_session"
CSRF_COOKIE = "ops_csrf"
CSRF_FIELD = "csrf"
COOKIE_PATH = "/ops"
MAX_FORM_BYTES = 16 * 1024


class NotSignedIn(Exception):
    pass


class BadForm(ValueError):
    """A form that cannot be accepted; the message is a sentence for the page."""


async def principal(request: Request) -> Principal:
    """The signed-in user; NotSignedIn if there is no (valid) token."""
    if request.app.state.settings.open_mode:
        return OPEN_PRINCIPAL
    header = request.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    token = bearer.strip() if scheme.lower() == "bearer" else ""
    token = token or request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise NotSignedIn
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify(token)
    except Unauthorized:
        raise NotSignedIn from None


def csrf_token(request: Request) -> str:
    """The token forms on this page carry: the cookie's, or a new one (set_csrf)."""
    current = request.cookies.get(CSRF_COOKIE, "")
    if len(current) == 32 and current.isalnum():
        return current
    made: str = request.state.__dict__.setdefault("new_csrf", secrets.token_hex(16))
    return made


def set_cookies(request: Request, response: Response) -> Response:
    if new := request.state.__dict__.get("new_csrf"):
        response.set_cookie(CSRF_COOKIE, new, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


def sign_in(response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="strict"
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


async def form(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token is checked; BadForm otherwise."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise BadForm("The form must be sent as application/x-www-form-urlencoded.")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadForm("The form is too large.")
    try:
        fields = {k: v[0] for k, v in parse_qs(body.decode(), max_num_fields=20).items()}
    except (UnicodeDecodeError, ValueError):
        raise BadForm("The form could not be read.") from None
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = fields.get(CSRF_FIELD, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise BadForm(
            "This form expired or did not come from this console (CSRF check failed): "
            "reload the page and try again."
        )
    return fields
