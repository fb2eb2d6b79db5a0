from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microshop.chassis.db import Base


class NotificationsBase(Base):
    __abstract__ = True


class SentMessageRow(NotificationsBase):
    __tablename__ = "sent_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Unique: exactly one e-mail per order per event type, whatever is redelivered.
    key: Mapped[str] = mapped_column(String(150), unique=True)
    event_id: Mapped[str] = mapped_column(String(36))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    transport: Mapped[str] = mapped_column(String(10))
    location: Mapped[str] = mapped_column(String(500))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
