"""the order saga, its step log, the order's reason, outbox and inbox

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from microshop.chassis.migrations import create_event_tables

revision = "0002"
down_revision = "0001"

UtcDateTime = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("reason", sa.String(300), nullable=True))
    op.create_table(
        "sagas",
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("phase", sa.String(20), nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("card_number", sa.String(30), nullable=True),
        sa.Column("lease_owner", sa.String(60), nullable=True),
        sa.Column("lease_until", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "saga_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False, index=True),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    create_event_tables()


def downgrade() -> None:
    op.drop_table("saga_steps")
    op.drop_table("sagas")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("reason")
