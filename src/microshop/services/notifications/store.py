"""The notifications' statements, written once, and rows read back as records."""

from sqlalchemy import bindparam, select

from microshop.chassis.data import Database, Query, Row, insert_into, timestamp
from microshop.chassis.data.listing import Listing
from microshop.chassis.paging import Page
from microshop.services.notifications.domain import SentMessage
from microshop.services.notifications.models import sent_messages

SENT_WITH_KEY = Query(select(sent_messages.c.id).where(sent_messages.c.key == bindparam("key")))
RECORD_SENT = insert_into(
    sent_messages,
    ["key", "event_id", "recipient", "subject", "body", "transport", "location", "sent_at"],
)
LISTING = Listing(sent_messages, sent_messages.c.id.desc())


def sent_message_from(row: Row) -> SentMessage:
    return SentMessage(
        id=row["id"],
        key=row["key"],
        event_id=row["event_id"],
        recipient=row["recipient"],
        subject=row["subject"],
        transport=row["transport"],
        location=row["location"],
        sent_at=timestamp(row["sent_at"]),
    )


async def list_sent(db: Database, page: Page) -> list[SentMessage]:
    """The newest first."""
    return [sent_message_from(row) for row in await LISTING.fetch(db, page)]
