"""sent messages, outbox and inbox

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from microshop.chassis.migrations import create_event_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "sent_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(150), nullable=False, unique=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("transport", sa.String(10), nullable=False),
        sa.Column("location", sa.String(500), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_event_tables()


def downgrade() -> None:
    op.drop_table("sent_messages")
