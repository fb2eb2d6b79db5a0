"""payments, order charges, outbox and inbox

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
        "payments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("amount", sa.Numeric(16, 2), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("card_last4", sa.String(4), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("refunded_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_payments_idempotency_key"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )
    op.create_index("ix_payments_order_id", "payments", ["order_id"])
    op.create_index("ix_payments_user_id", "payments", ["user_id"])
    op.create_table(
        "order_charges",
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("payment_id", name="uq_order_charges_payment_id"),
    )
    create_event_tables()


def downgrade() -> None:
    raise NotImplementedError("payments are financial records; drop them by hand")
