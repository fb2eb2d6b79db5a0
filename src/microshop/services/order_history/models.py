from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microshop.chassis.db import Base, UtcDateTime


class OrderHistoryBase(Base):
    __abstract__ = True


class OrderViewRow(OrderHistoryBase):
    """Everything a customer sees about one order, in one row: no joins, no calls."""

    __tablename__ = "order_views"

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    user_name: Mapped[str | None] = mapped_column(String(200), default=None)
    user_email: Mapped[str | None] = mapped_column(String(320), default=None)
    items: Mapped[str] = mapped_column(Text, default="[]")  # JSON
    total: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), default=None)
    status: Mapped[str | None] = mapped_column(String(20), default=None)
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    payment_status: Mapped[str | None] = mapped_column(String(20), default=None)
    payment_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    shipment_status: Mapped[str | None] = mapped_column(String(20), default=None)
    shipment_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(40), default=None)
    placed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
