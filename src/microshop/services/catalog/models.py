"""The catalog's tables (the schema; migrations/ creates them)."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)
from sqlalchemy.dialects import mysql

from microshop.chassis.data.types import Timestamp

metadata = MetaData()

MAX_NAME = 200

# A search term compares byte by byte on every engine (PostgreSQL's "C", MariaDB's
# utf8mb4_bin, SQLite's default BINARY): a prefix is then one index range,
# `term >= 'lap' AND term < 'laq'`, which a language collation would break.
Term = (
    String(MAX_NAME)
    .with_variant(String(MAX_NAME, collation="C"), "postgresql")
    .with_variant(
        mysql.VARCHAR(MAX_NAME, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_NAME), nullable=False),
    Column("description", String(2000), nullable=False, server_default=""),
    Column("price", Numeric(12, 2), nullable=False),
    Column("stock", Integer, nullable=False),
    CheckConstraint("stock >= 0", name="stock_not_negative"),
    CheckConstraint("price >= 0", name="price_not_negative"),
)

# The stock taken for one order: its key makes decrease and restore idempotent.
stock_reservations = Table(
    "stock_reservations",
    metadata,
    Column("order_id", Integer, primary_key=True, autoincrement=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

stock_reservation_lines = Table(
    "stock_reservation_lines",
    metadata,
    Column("order_id", Integer, ForeignKey("stock_reservations.order_id"), primary_key=True),
    Column("product_id", Integer, primary_key=True, autoincrement=False),
    Column("quantity", Integer, nullable=False),
)

# Each word of each product's name (domain.name_terms), written with the product.
product_terms = Table(
    "product_terms",
    metadata,
    Column("term", Term, primary_key=True),
    Column("product_id", Integer, ForeignKey("products.id"), primary_key=True, autoincrement=False),
    # A rename replaces the product's terms: found by product, not by scanning.
    Index("ix_product_terms_product_id", "product_id"),
)
