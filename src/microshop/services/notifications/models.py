"""The notifications table (the schema; migrations/ creates it)."""

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Every e-mail sent. The key is unique: exactly one e-mail per order per event
# type, whatever is redelivered or recorded twice upstream.
sent_messages = Table(
    "sent_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(150), nullable=False, unique=True),
    Column("event_id", String(36), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("transport", String(10), nullable=False),
    Column("location", String(500), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)
