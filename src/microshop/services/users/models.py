from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microshop.chassis.db import Base


class UsersBase(Base):
    __abstract__ = True


class UserRow(UsersBase):
    __tablename__ = "users"
    # The database, not a prior lookup, decides that an e-mail is taken.
    __table_args__ = (UniqueConstraint("email", name="users_email_unique"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    # None for a user registered without a password in open mode: it cannot log in.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    role: Mapped[str] = mapped_column(String(20))
