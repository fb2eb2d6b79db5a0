"""traces and their spans, outbox and inbox

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from microshop.chassis.migrations import create_event_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "traces",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("trace_id", sa.String(32), nullable=False, unique=True),
    )
    op.create_table(
        "spans",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("span_id", sa.String(16), primary_key=True),
        sa.Column("parent_id", sa.String(16), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("start_ns", sa.BigInteger, nullable=False),
        sa.Column("end_ns", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("order_id", sa.Integer, nullable=True, index=True),
    )
    create_event_tables()


def downgrade() -> None:
    op.drop_table("spans")
    op.drop_table("traces")
