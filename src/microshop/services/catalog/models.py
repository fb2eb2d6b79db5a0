from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from microshop.chassis.db import Base


class CatalogBase(Base):
    __abstract__ = True


class ProductRow(CatalogBase):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    stock: Mapped[int] = mapped_column(Integer)


class ReservationRow(CatalogBase):
    """The stock taken for one order: its key makes decrease and restore idempotent."""

    __tablename__ = "stock_reservations"

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReservationLineRow(CatalogBase):
    __tablename__ = "stock_reservation_lines"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("stock_reservations.order_id"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
