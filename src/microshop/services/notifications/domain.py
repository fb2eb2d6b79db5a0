"""What an e-mail says: pure rendering, no I/O."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime

from microshop.contracts.events import OrderApproved, OrderCancelled, OrderCreated, OrderRejected

SENDER = "microshop <no-reply@microshop.local>"


@dataclass(frozen=True, slots=True)
class Email:
    key: str  # one e-mail per key, ever: "order-<id>-<event type>"
    to: str
    subject: str
    body: str

    def message(self, sender: str = SENDER) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = self.to
        msg["Subject"] = self.subject
        # A Message-ID derived from the key lets a mail server drop a resend too.
        msg["Message-ID"] = f"<{self.key}@microshop.local>"
        return msg


def order_confirmation(order: OrderCreated) -> Email:
    total = Decimal(order.total).quantize(Decimal("0.01"))
    return Email(
        key=f"order-{order.id}-{order.TYPE}",
        to=order.user_email,
        subject=f"Order #{order.id} confirmed",
        body=(
            f"Hello {order.user_name},\n\n"
            f"thank you for your order #{order.id}:\n\n"
            f"  {order.quantity} x {order.product_name} at {order.unit_price}\n"
            f"  total: {total}\n\n"
            f"We will let you know when it ships.\n\n-- microshop\n"
        ),
    )


def order_outcome(order: OrderApproved | OrderRejected | OrderCancelled) -> Email:
    total = Decimal(order.total).quantize(Decimal("0.01"))
    what = {
        OrderApproved.TYPE: ("approved", "is paid and on its way to the warehouse."),
        OrderRejected.TYPE: (
            "rejected",
            "could not be completed; nothing was charged or it was refunded.",
        ),
        OrderCancelled.TYPE: ("cancelled", "is cancelled; any payment was refunded."),
    }[order.TYPE]
    reason = f"\nReason: {order.reason}\n" if order.reason else ""
    return Email(
        key=f"order-{order.id}-{order.TYPE}",
        to=order.user_email,
        subject=f"Order #{order.id} {what[0]}",
        body=(
            f"Hello {order.user_name},\n\nyour order #{order.id} (total {total}) {what[1]}\n"
            f"{reason}\n-- microshop\n"
        ),
    )


def rfc5322_message(email: Email, sent_at: datetime) -> EmailMessage:
    msg = email.message()
    msg["Date"] = format_datetime(sent_at)
    msg.set_content(email.body)
    return msg


def as_rfc5322(email: Email, sent_at: datetime) -> bytes:
    return bytes(rfc5322_message(email, sent_at))
