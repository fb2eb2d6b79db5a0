"""The shipping table (the schema; migrations/ creates it)."""

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint

from microshop.chassis.data.types import Timestamp

metadata = MetaData()

# At most one shipment per order: the unique order id makes creation idempotent.
# A cancelled row without a tracking number is a tombstone: the order was called
# off before its shipment was created, and a late create finds it.
shipments = Table(
    "shipments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=True, index=True),
    Column("address", String(500), nullable=True),
    Column("tracking_number", String(20), nullable=True),
    Column("status", String(20), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("order_id", name="uq_shipments_order_id"),
    UniqueConstraint("tracking_number", name="uq_shipments_tracking_number"),
)
