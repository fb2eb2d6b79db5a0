"""Registering, signing in and out. Signing in asks the users service for the same
JWT an API client gets, and keeps it in the session cookie (visit.py)."""

from fastapi import APIRouter
from fastapi.responses import Response

from microshop.services.web import peers
from microshop.services.web.domain import (
    MAX_EMAIL,
    MAX_NAME,
    MAX_PASSWORD,
    FormError,
    check_registration,
    check_sign_in,
    safe_next,
)
from microshop.services.web.visit import CurrentVisit, PostedForm, Visit, text

router = APIRouter(include_in_schema=False)
EXPIRED = "Your session has expired: please sign in again."


async def _start_session(visit: Visit, email: str, password: str, next_page: str) -> Response:
    session = await peers.sign_in(visit.client, email, password)
    visit.sign_in(session.token, session.expires_in)
    return visit.redirect(next_page)


@router.get("/account/sign-in")
async def sign_in_page(
    visit: CurrentVisit, next: str | None = None, expired: str | None = None
) -> Response:
    notice = EXPIRED if expired else None
    return visit.render("sign_in.html", next=safe_next(next), email="", error=None, notice=notice)


@router.post("/account/sign-in")
async def sign_in(visit: CurrentVisit, form: PostedForm) -> Response:
    next_page = safe_next(text(form, "next"))
    email = text(form, "email", MAX_EMAIL + 1)
    try:
        checked = check_sign_in(email, text(form, "password", MAX_PASSWORD + 1))
        return await _start_session(visit, *checked, next_page)
    except FormError as error:
        return visit.render(
            "sign_in.html", 422, next=next_page, email=email, error=str(error), notice=None
        )


@router.get("/account/register")
async def register_page(visit: CurrentVisit, next: str | None = None) -> Response:
    return visit.render("register.html", next=safe_next(next), name="", email="", error=None)


@router.post("/account/register")
async def register(visit: CurrentVisit, form: PostedForm) -> Response:
    next_page = safe_next(text(form, "next"))
    name, email = text(form, "name", MAX_NAME + 1), text(form, "email", MAX_EMAIL + 1)
    try:
        new = check_registration(
            name,
            email,
            text(form, "password", MAX_PASSWORD + 1),
            text(form, "confirm", MAX_PASSWORD + 1),
        )
        await peers.register(visit.client, new)
        return await _start_session(visit, new.email, new.password, next_page)
    except FormError as error:
        return visit.render(
            "register.html", 422, next=next_page, name=name, email=email, error=str(error)
        )


@router.post("/account/sign-out")
async def sign_out(visit: CurrentVisit, form: PostedForm) -> Response:
    visit.sign_out()
    return visit.redirect("/")
