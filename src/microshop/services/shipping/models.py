from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microshop.chassis.db import Base, UtcDateTime, utc_now


class ShippingBase(Base):
    __abstract__ = True


class ShipmentRow(ShippingBase):
    """At most one shipment per order: the unique order id makes creation idempotent.
    A cancelled row without a tracking number is a tombstone: the order was called
    off before its shipment was created, and a late create finds it."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("order_id", name="uq_shipments_order_id"),
        UniqueConstraint("tracking_number", name="uq_shipments_tracking_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    address: Mapped[str | None] = mapped_column(String(500))
    tracking_number: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
