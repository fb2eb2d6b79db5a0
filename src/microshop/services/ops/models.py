"""The ops service's tables: the spans of the last traces it received."""

from sqlalchemy import BigInteger, Column, Integer, MetaData, SmallInteger, String, Table, Text

metadata = MetaData()

# One row per trace, in the order they arrived: the oldest go first when more than
# MICROSHOP_OPS_TRACES_KEPT are held.
traces = Table(
    "traces",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("trace_id", String(32), nullable=False, unique=True),
)

spans = Table(
    "spans",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("span_id", String(16), primary_key=True),
    Column("parent_id", String(16), nullable=False),
    Column("service", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("start_ns", BigInteger, nullable=False),
    Column("end_ns", BigInteger, nullable=False),
    Column("error", Text, nullable=True),
    Column("attributes", Text, nullable=False),  # JSON object
    Column("order_id", Integer, nullable=True, index=True),
)
