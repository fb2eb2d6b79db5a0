"""What an e-mail says: pure rendering, no I/O."""

from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime

from microshop.contracts.events import OrderCreated

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


def as_rfc5322(email: Email, date_source: object) -> bytes:
    msg = email.message()
    msg["Date"] = format_datetime(date_source)  # type: ignore[arg-type]
    msg.set_content(email.body)
    return bytes(msg)
