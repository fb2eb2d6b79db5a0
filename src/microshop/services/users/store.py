"""The users' statements, written once, and rows read back as domain objects."""

from sqlalchemy import bindparam, select, update

from microshop.chassis.data import Query, insert_into
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import row_reader
from microshop.services.users.domain import User
from microshop.services.users.models import users

NEW_USER = insert_into(users, ["name", "email", "password_hash", "role"], returns_id=True)
# The admin's row: of replicas starting together, the one whose insert lands wins.
NEW_USER_UNLESS_TAKEN = insert_into(
    users, ["name", "email", "password_hash", "role"], on_duplicate="skip", returns_id=True
)
BY_ID = Query(select(users).where(users.c.id == bindparam("id")))
BY_EMAIL = Query(select(users).where(users.c.email == bindparam("email")))
NEW_PASSWORD_HASH = Query(
    update(users).where(users.c.id == bindparam("id")).values(password_hash=bindparam("hash"))
)
LISTING = Listing(users, users.c.id)


user_from = row_reader(User)
