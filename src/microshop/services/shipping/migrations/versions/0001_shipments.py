"""shipments, outbox and inbox

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from microshop.chassis.data.types import Timestamp as UtcDateTime
from microshop.chassis.migrations import create_event_tables, refuse_to_drop_event_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("tracking_number", sa.String(20), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("order_id", name="uq_shipments_order_id"),
        sa.UniqueConstraint("tracking_number", name="uq_shipments_tracking_number"),
    )
    op.create_index("ix_shipments_user_id", "shipments", ["user_id"])
    create_event_tables()


def downgrade() -> None:
    refuse_to_drop_event_tables()
