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
from sqlalchemy.orm import Mapped, mapped_column

from microshop.chassis.db import Base, UtcDateTime, utc_now
from microshop.services.payments.domain import MAX_IDEMPOTENCY_KEY


class PaymentsBase(Base):
    __abstract__ = True


class PaymentRow(PaymentsBase):
    """One charge attempt. Its Idempotency-Key is unique: a retried request finds
    the first attempt instead of charging again."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_payments_idempotency_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(MAX_IDEMPOTENCY_KEY))
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    refunded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OrderChargeRow(PaymentsBase):
    """The one charge an order may have, keyed by order id so the database refuses a
    second. A row without a payment is a void: the saga gave the order up before any
    charge landed, and a late charge for it is declined."""

    __tablename__ = "order_charges"
    __table_args__ = (UniqueConstraint("payment_id", name="uq_order_charges_payment_id"),)

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
