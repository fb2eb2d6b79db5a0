"""The read model's one table (the schema; migrations/ creates it)."""

from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, Text

from microshop.chassis.data.types import Timestamp

metadata = MetaData()

# Everything a customer sees about one order, in one row: no joins, no calls. Each
# part keeps the time of the fact that last set it (`*_at`), so events can arrive in
# any order (domain.py).
order_views = Table(
    "order_views",
    metadata,
    Column("order_id", Integer, primary_key=True, autoincrement=False),
    Column("user_id", Integer, nullable=True, index=True),
    Column("user_name", String(200), nullable=True),
    Column("user_email", String(320), nullable=True),
    Column("items", Text, nullable=False),  # JSON: the order's lines
    Column("total", Numeric(16, 2), nullable=True),
    Column("status", String(20), nullable=True),
    Column("status_at", Timestamp, nullable=True),
    Column("reason", String(300), nullable=True),
    Column("payment_status", String(20), nullable=True),
    Column("payment_at", Timestamp, nullable=True),
    Column("shipment_status", String(20), nullable=True),
    Column("shipment_at", Timestamp, nullable=True),
    Column("tracking_number", String(40), nullable=True),
    Column("placed_at", Timestamp, nullable=True),
    Column("updated_at", Timestamp, nullable=True),
)
