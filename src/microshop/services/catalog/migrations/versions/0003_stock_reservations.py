"""stock reservations per order

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "stock_reservations",
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "stock_reservation_lines",
        sa.Column(
            "order_id",
            sa.Integer,
            sa.ForeignKey("stock_reservations.order_id"),
            primary_key=True,
        ),
        sa.Column("product_id", sa.Integer, primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stock_reservation_lines")
    op.drop_table("stock_reservations")
