"""The notifications' statements, written once, and rows read back as records."""

from microshop.chassis.data import Database, insert_into, timestamp
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import row_reader
from microshop.chassis.paging import Page
from microshop.services.notifications.domain import SentMessage
from microshop.services.notifications.models import sent_messages

RECORD_SENT = insert_into(
    sent_messages,
    ["key", "event_id", "recipient", "subject", "body", "transport", "location", "sent_at"],
    on_duplicate="skip",
)
LISTING = Listing(sent_messages, sent_messages.c.id.desc())


sent_message_from = row_reader(SentMessage, sent_at=timestamp)


async def list_sent(db: Database, page: Page) -> list[SentMessage]:
    """The newest first."""
    return [sent_message_from(row) for row in await LISTING.fetch(db, page)]
