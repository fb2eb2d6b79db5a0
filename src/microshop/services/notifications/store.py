"""The notifications' statements, written once, and rows read back as records."""

from sqlalchemy import bindparam, delete

from microshop.chassis.data import Database, Query, insert_into, timestamp
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import row_reader
from microshop.chassis.paging import Page
from microshop.services.notifications.domain import SentMessage
from microshop.services.notifications.models import sent_messages

COLUMNS = ["key", "event_id", "recipient", "subject", "body", "transport", "location", "sent_at"]
RECORD_SENT = insert_into(sent_messages, COLUMNS, on_duplicate="skip")
# A batch's records at once: a key already there fails them all.
RECORD_NEW = insert_into(sent_messages, COLUMNS)
FORGET_SENT = Query(delete(sent_messages).where(sent_messages.c.key == bindparam("key")))
LISTING = Listing(sent_messages, sent_messages.c.id.desc())


sent_message_from = row_reader(SentMessage, sent_at=timestamp)


async def list_sent(db: Database, page: Page) -> list[SentMessage]:
    """The newest first."""
    return [sent_message_from(row) for row in await LISTING.fetch(db, page)]
