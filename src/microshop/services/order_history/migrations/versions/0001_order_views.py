"""order views, outbox and inbox

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from microshop.chassis.data.types import Timestamp as UtcDateTime
from microshop.chassis.migrations import create_event_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "order_views",
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer, nullable=True, index=True),
        sa.Column("user_name", sa.String(200), nullable=True),
        sa.Column("user_email", sa.String(320), nullable=True),
        sa.Column("items", sa.Text, nullable=False),
        sa.Column("total", sa.Numeric(16, 2), nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("status_at", UtcDateTime, nullable=True),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("payment_status", sa.String(20), nullable=True),
        sa.Column("payment_at", UtcDateTime, nullable=True),
        sa.Column("shipment_status", sa.String(20), nullable=True),
        sa.Column("shipment_at", UtcDateTime, nullable=True),
        sa.Column("tracking_number", sa.String(40), nullable=True),
        sa.Column("placed_at", UtcDateTime, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=True),
    )
    create_event_tables()


def downgrade() -> None:
    op.drop_table("order_views")
