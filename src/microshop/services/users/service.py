"""Users use cases. They take the database port and return domain objects; the API
shapes them."""

import secrets
import time
from collections.abc import Callable

from microshop.chassis.auth import AUDIENCE, ISSUER
from microshop.chassis.data import Database, UniqueViolation
from microshop.chassis.data.records import fetch_record
from microshop.chassis.outbox import record_event
from microshop.chassis.paging import Page
from microshop.contracts.errors import Unauthorized
from microshop.contracts.events import UserRegistered
from microshop.services.users import passwords, store
from microshop.services.users.domain import (
    ADMIN,
    ADMIN_EMAIL,
    CUSTOMER,
    EmailTaken,
    User,
    UserNotFound,
    access_token_claims,
    check_password,
    normalise_email,
)
from microshop.services.users.keys import SigningKey
from microshop.services.users.schemas import TokenReply, UserCreate

INVALID_LOGIN = "Invalid email or password"


async def register_user(db: Database, new: UserCreate, *, open_mode: bool) -> User:
    check_password(new.password, open_mode=open_mode)
    password_hash = await passwords.hash_password(new.password) if new.password else None
    email = normalise_email(new.email)
    try:
        async with db.transaction() as tx:
            user_id = await tx.insert(
                store.NEW_USER,
                name=new.name,
                email=email,
                password_hash=password_hash,
                role=CUSTOMER,
            )
            assert user_id is not None
            user = User(user_id, new.name, email, CUSTOMER, password_hash)
            fact = UserRegistered(id=user.id, name=user.name, email=user.email, role=user.role)
            await record_event(tx, fact)
    except UniqueViolation:
        raise EmailTaken from None
    return user


async def list_users(db: Database, page: Page) -> list[User]:
    return [store.user_from(row) for row in await store.LISTING.fetch(db, page)]


async def get_user(db: Database, user_id: int) -> User:
    row = await db.fetch_one(store.BY_ID, id=user_id)
    if row is None:
        raise UserNotFound
    return store.user_from(row)


async def issue_token(
    db: Database, key: SigningKey, email: str, password: str, *, ttl_seconds: int
) -> TokenReply:
    user = await _user_by_email(db, normalise_email(email))
    password_hash = user.password_hash if user else None
    # Verified even for an unknown e-mail (against a dummy hash): equal timing.
    matches = await passwords.verify_password(password_hash, password)
    if user is None or not matches:
        raise Unauthorized(INVALID_LOGIN)
    if password_hash and passwords.needs_rehash(password_hash):
        rehashed = await passwords.hash_password(password)
        async with db.transaction() as tx:
            await tx.execute(store.NEW_PASSWORD_HASH, id=user.id, hash=rehashed)
    claims = access_token_claims(
        user_id=user.id,
        role=user.role,
        email=user.email,
        name=user.name,
        issued_at=int(time.time()),
        ttl_seconds=ttl_seconds,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    return TokenReply(access_token=key.sign(claims), expires_in=ttl_seconds)


async def ensure_admin(
    db: Database, configured_password: str | None, keep_password: Callable[[str], None]
) -> User | None:
    """Create the admin account unless it exists, with the configured password or a
    random one handed to `keep_password`. None if the admin already existed, or a
    replica starting at the same moment created it first."""
    if await _user_by_email(db, ADMIN_EMAIL) is not None:
        return None
    password = configured_password or secrets.token_urlsafe(18)
    password_hash = await passwords.hash_password(password)
    async with db.transaction() as tx:
        # The insert holds the e-mail's unique slot until commit, so only the replica
        # that wins it keeps a password; and it keeps it before committing, so a crash
        # in between leaves an unused password behind rather than an admin nobody can use.
        admin_id = await tx.insert(
            store.NEW_USER_UNLESS_TAKEN,
            name="Administrator",
            email=ADMIN_EMAIL,
            password_hash=password_hash,
            role=ADMIN,
        )
        if admin_id is None:
            return None
        if configured_password is None:
            keep_password(password)
    return User(admin_id, "Administrator", ADMIN_EMAIL, ADMIN, password_hash)


async def _user_by_email(db: Database, email: str) -> User | None:
    return await fetch_record(db, store.BY_EMAIL, store.user_from, email=email)
