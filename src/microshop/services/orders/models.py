"""The orders tables (the schema; migrations/ creates them)."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)

from microshop.chassis.data.types import Timestamp
from microshop.chassis.idempotency import MAX_IDEMPOTENCY_KEY

metadata = MetaData()

# Totals outgrow a unit price: 1000 x 99,999,999.99 needs 14 digits.
AMOUNT = Numeric(14, 2)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("user_name", String(200), nullable=False),
    Column("user_email", String(320), nullable=False),
    Column("status", String(20), nullable=False),
    Column("total", AMOUNT, nullable=False),
    Column("placed_by", Integer, nullable=False),
    Column("idempotency_key", String(MAX_IDEMPOTENCY_KEY), nullable=True),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # Why the order ended rejected or cancelled (None while pending or approved).
    Column("reason", String(300), nullable=True),
    # The database, not a check-then-insert, decides that a retried request with
    # the same key from the same caller is the same order.
    UniqueConstraint("placed_by", "idempotency_key", name="uq_orders_idempotency"),
    CheckConstraint("total >= 0", name="total_not_negative"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("product_id", Integer, nullable=False),
    Column("product_name", String(200), nullable=False),
    Column("unit_price", Numeric(12, 2), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("line_total", AMOUNT, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
)

# The order saga's persisted state (saga.py): written with each step's outcome.
sagas = Table(
    "sagas",
    metadata,
    Column("order_id", Integer, ForeignKey("orders.id"), primary_key=True),
    Column("phase", String(20), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("outcome", String(20), nullable=True),
    Column("reason", String(300), nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    # The simulated card for the payment step; cleared when the saga finishes.
    Column("card_number", String(30), nullable=True),
    # Which orders replica drives the saga, until when (replicas never run one twice).
    Column("lease_owner", String(60), nullable=True),
    Column("lease_until", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

# The saga's log: every step started, succeeded, failed or compensated.
saga_steps = Table(
    "saga_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("step", String(20), nullable=False),
    Column("event", String(30), nullable=False),
    Column("detail", String(500), nullable=True),
    Column("at", Timestamp, nullable=False),
)
