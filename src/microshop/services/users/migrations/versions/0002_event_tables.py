"""outbox and inbox

Revision ID: 0002
"""

from microshop.chassis.migrations import create_event_tables

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    create_event_tables()


def downgrade() -> None:
    raise NotImplementedError("the event tables hold undelivered events; drop them by hand")
