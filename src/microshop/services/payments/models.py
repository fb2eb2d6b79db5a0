"""The payments tables (the schema; migrations/ creates them)."""

from sqlalchemy import (
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

# One charge attempt. Its Idempotency-Key is unique: a retried request finds the
# first attempt instead of charging again.
payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(MAX_IDEMPOTENCY_KEY), nullable=False),
    Column("order_id", Integer, nullable=False, index=True),
    Column("user_id", Integer, nullable=True, index=True),
    Column("amount", Numeric(16, 2), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(200), nullable=True),
    Column("card_last4", String(4), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("refunded_at", Timestamp, nullable=True),
    UniqueConstraint("idempotency_key", name="uq_payments_idempotency_key"),
    CheckConstraint("amount > 0", name="amount_positive"),
)

# The one charge an order may have, keyed by order id so the database refuses a
# second. A row without a payment is a void: the saga gave the order up before any
# charge landed, and a late charge for it is declined.
order_charges = Table(
    "order_charges",
    metadata,
    Column("order_id", Integer, primary_key=True, autoincrement=False),
    Column("payment_id", Integer, ForeignKey("payments.id"), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("payment_id", name="uq_order_charges_payment_id"),
)
