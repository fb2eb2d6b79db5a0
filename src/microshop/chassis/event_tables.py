"""The outbox and the inbox: the tables every service's migrations create."""

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table

metadata = MetaData()

outbox = Table(
    "outbox",
    metadata,
    # seq orders publication: events leave in the order their transactions wrote them.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("aggregate", String(100), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True, index=True),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(60), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False),
)
