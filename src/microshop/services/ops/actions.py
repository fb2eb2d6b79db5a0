"""What the console's forms do: sign in and out, chaos, and the replay of a dead
letter. Each is the same action as a CLI command (fleet.py says which) and answers
with a redirect back to the page, its outcome shown there as a sentence."""

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from microshop.chassis.auth import Principal
from microshop.contracts.errors import Unavailable
from microshop.services.ops.fleet import ActionFailed, replay
from microshop.services.ops.pages import FLASH_COOKIE, NOT_CHAOS_TARGETS, admin, fleet
from microshop.services.ops.render import page, problem
from microshop.services.ops.session import BadForm, form, sign_in, sign_out

router = APIRouter(prefix="/ops", include_in_schema=False)

CHAOS = ("stop", "start", "delay", "fail", "heal")
# How long the browser keeps the sign-in: the users service's tokens live as long.
SESSION_S = 3600


def back(message: str, ok: bool = True, to: str = "/ops") -> Response:
    response = RedirectResponse(to, status_code=303)
    flash = f"{'ok' if ok else 'error'}:{message}"
    response.set_cookie(FLASH_COOKIE, quote(flash), path="/ops", httponly=True, samesite="strict")
    return response


async def login_page(request: Request) -> Response:
    return page(request, "login.html", error="", email="")


async def login(request: Request) -> Response:
    try:
        fields = await form(request)
    except BadForm as exc:
        return page(request, "login.html", 400, error=str(exc), email="")
    email, password = fields.get("email", "")[:320], fields.get("password", "")[:200]
    if not email or not password:
        return page(request, "login.html", 400, error="Give your e-mail and password.", email=email)
    try:
        reply = await request.app.state.client.post(
            "users", "/auth/token", json={"email": email, "password": password}
        )
    except Unavailable:
        return page(
            request,
            "login.html",
            503,
            error="The users service is unavailable: try again soon.",
            email=email,
        )
    if reply.status != 200:
        return page(request, "login.html", 401, error="Wrong e-mail or password.", email=email)
    response = RedirectResponse("/ops", status_code=303)
    sign_in(response, str(reply.body["access_token"]), SESSION_S)
    return response


async def logout(request: Request) -> Response:
    try:
        await form(request)
    except BadForm as exc:
        return problem(request, 400, "Not signed out", str(exc))
    response = RedirectResponse("/ops/login", status_code=303)
    sign_out(response)
    return response


def _number(text: str, low: float, high: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadForm(f"{what} must be a number.") from None
    if not low <= value <= high:
        raise BadForm(f"{what} must be between {low:g} and {high:g}.")
    return value


async def chaos(request: Request) -> Response:
    user = await admin(request)
    if not isinstance(user, Principal):
        return user
    try:
        fields = await form(request)
        action, service = fields.get("action", ""), fields.get("service", "")
        if action not in CHAOS:
            raise BadForm(f"The action must be one of {', '.join(CHAOS)}.")
        views = [v for v in await fleet(request).instances() if v.service == service]
        if not views or service in NOT_CHAOS_TARGETS:
            raise BadForm("There is no such service to break.")
        if action in ("stop", "start"):
            message = await fleet(request).supervise(action, service)
        elif action == "delay":
            ms = _number(fields.get("value", ""), 0, 60_000, "The delay in milliseconds")
            message = await fleet(request).set_faults(views, int(ms), 0)
        elif action == "fail":
            percent = _number(fields.get("value", ""), 0, 100, "The share of failures")
            message = await fleet(request).set_faults(views, 0, percent)
        else:
            message = await fleet(request).set_faults(views, 0, 0)
    except BadForm as exc:
        return problem(request, 400, "Not done", str(exc))
    except ActionFailed as exc:
        return back(str(exc), ok=False)
    return back(message)


async def replay_letter(request: Request) -> Response:
    user = await admin(request)
    if not isinstance(user, Principal):
        return user
    letter_id = request.path_params["letter_id"]
    try:
        await form(request)
        if len(letter_id) > 100:
            raise BadForm("That is not a dead letter's id.")
        events = request.app.state.events
        replayed = await replay(events.bus if events is not None else None, letter_id)
    except BadForm as exc:
        return problem(request, 400, "Not replayed", str(exc))
    except ActionFailed as exc:
        return back(str(exc), ok=False)
    if not replayed:
        return back("That dead letter is gone (already replayed?).", ok=False)
    return back(f"Dead letter {letter_id} was put back on the bus for its consumer.")


router.add_api_route("/login", login_page, methods=["GET"])
router.add_api_route("/login", login, methods=["POST"])
router.add_api_route("/logout", logout, methods=["POST"])
router.add_api_route("/chaos", chaos, methods=["POST"])
router.add_api_route("/dead-letters/{letter_id}/replay", replay_letter, methods=["POST"])
