"""Users use cases. They take a session and return rows; the API shapes them."""

import secrets
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.auth import AUDIENCE, ISSUER
from microshop.chassis.errors import ApiError, Conflict, NotFound, Unauthorized
from microshop.chassis.outbox import record_event
from microshop.contracts.events import UserRegistered
from microshop.services.users import passwords
from microshop.services.users.domain import (
    ADMIN,
    ADMIN_EMAIL,
    CUSTOMER,
    Page,
    PasswordRejected,
    access_token_claims,
    check_password,
    normalise_email,
)
from microshop.services.users.keys import SigningKey
from microshop.services.users.models import UserRow
from microshop.services.users.schemas import TokenReply, UserCreate

INVALID_LOGIN = "Invalid email or password"


async def register_user(session: AsyncSession, new: UserCreate, *, open_mode: bool) -> UserRow:
    try:
        check_password(new.password, open_mode=open_mode)
    except PasswordRejected as exc:
        raise ApiError(422, str(exc)) from None
    password_hash = await passwords.hash_password(new.password) if new.password else None
    user = UserRow(
        name=new.name,
        email=normalise_email(new.email),
        password_hash=password_hash,
        role=CUSTOMER,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict("Email already registered") from None
    fact = UserRegistered(id=user.id, name=user.name, email=user.email, role=user.role)
    await record_event(session, fact)
    await session.commit()
    return user


async def list_users(session: AsyncSession, page: Page) -> list[UserRow]:
    query = select(UserRow).order_by(UserRow.id).limit(page.limit).offset(page.offset)
    return list(await session.scalars(query))


async def get_user(session: AsyncSession, user_id: int) -> UserRow:
    user = await session.get(UserRow, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def issue_token(
    session: AsyncSession, key: SigningKey, email: str, password: str, *, ttl_seconds: int
) -> TokenReply:
    user = await _user_by_email(session, normalise_email(email))
    password_hash = user.password_hash if user else None
    # Verified even for an unknown e-mail (against a dummy hash): equal timing.
    matches = await passwords.verify_password(password_hash, password)
    if user is None or not matches:
        raise Unauthorized(INVALID_LOGIN)
    if password_hash and passwords.needs_rehash(password_hash):
        user.password_hash = await passwords.hash_password(password)
        await session.commit()
    claims = access_token_claims(
        user_id=user.id,
        role=user.role,
        email=user.email,
        issued_at=int(time.time()),
        ttl_seconds=ttl_seconds,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    return TokenReply(access_token=key.sign(claims), expires_in=ttl_seconds)


async def ensure_admin(
    session: AsyncSession, configured_password: str | None, keep_password: Callable[[str], None]
) -> UserRow | None:
    """Create the admin account unless it exists, with the configured password or a
    random one handed to `keep_password`. None if the admin already existed, or a
    replica starting at the same moment created it first."""
    if await _user_by_email(session, ADMIN_EMAIL) is not None:
        return None
    password = configured_password or secrets.token_urlsafe(18)
    admin = UserRow(
        name="Administrator",
        email=ADMIN_EMAIL,
        password_hash=await passwords.hash_password(password),
        role=ADMIN,
    )
    session.add(admin)
    try:
        # The insert holds the e-mail's unique slot until commit, so only the replica
        # that wins it keeps a password; and it keeps it before committing, so a crash
        # in between leaves an unused password behind rather than an admin nobody can use.
        await session.flush()
        if configured_password is None:
            keep_password(password)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return None
    return admin


async def _user_by_email(session: AsyncSession, email: str) -> UserRow | None:
    result = await session.scalars(select(UserRow).where(UserRow.email == email))
    return result.first()
