"""The users table (the schema; migrations/ creates it)."""

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("role", String(20), nullable=False),
    # The database, not a prior lookup, decides that an e-mail is taken.
    UniqueConstraint("email", name="users_email_unique"),
)
