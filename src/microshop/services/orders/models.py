from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microshop.chassis.db import Base, UtcDateTime, utc_now
from microshop.services.orders.domain import MAX_IDEMPOTENCY_KEY, OrderStatus


class OrdersBase(Base):
    __abstract__ = True


# Totals outgrow a unit price: 1000 x 99,999,999.99 needs 14 digits.
AMOUNT = Numeric(14, 2)


class OrderRow(OrdersBase):
    __tablename__ = "orders"
    __table_args__ = (
        # The database, not a check-then-insert, decides that a retried request
        # with the same key from the same caller is the same order.
        UniqueConstraint("placed_by", "idempotency_key", name="uq_orders_idempotency"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    user_name: Mapped[str] = mapped_column(String(200))
    user_email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING.value)
    total: Mapped[Decimal] = mapped_column(AMOUNT)
    placed_by: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(MAX_IDEMPOTENCY_KEY))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Why the order ended rejected or cancelled (None while pending or approved).
    reason: Mapped[str | None] = mapped_column(String(300), default=None)

    lines: Mapped[list["OrderLineRow"]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="OrderLineRow.id",
    )


class OrderLineRow(OrdersBase):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(Integer)
    product_name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[Decimal] = mapped_column(AMOUNT)

    order: Mapped[OrderRow] = relationship(back_populates="lines")


class SagaRow(OrdersBase):
    """The order saga's persisted state (see saga.py): written before each step."""

    __tablename__ = "sagas"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(20), index=True)
    position: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    # The simulated card for the payment step; cleared when the saga finishes.
    card_number: Mapped[str | None] = mapped_column(String(30), default=None)
    # Which orders replica drives the saga, until when (replicas never run one twice).
    lease_owner: Mapped[str | None] = mapped_column(String(60), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class SagaStepRow(OrdersBase):
    """The saga's log: every step started, succeeded, failed or compensated."""

    __tablename__ = "saga_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(String(500), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
