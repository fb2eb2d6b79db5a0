"""What an e-mail says, and the record of one sent: pure rendering, no I/O."""

from binascii import b2a_qp
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.header import Header
from email.utils import format_datetime

from microshop.contracts.events import OrderApproved, OrderCancelled, OrderCreated, OrderRejected

OrderOutcome = OrderApproved | OrderRejected | OrderCancelled

SENDER_ADDRESS = "no-reply@microshop.local"
SENDER = f"microshop <{SENDER_ADDRESS}>"


@dataclass(frozen=True, slots=True)
class Email:
    key: str  # one e-mail per key, ever: "order-<id>-<event type>"
    to: str
    subject: str
    body: str

    def rfc5322(self, sent_at: datetime, sender: str = SENDER) -> bytes:
        """The message as RFC 5322 bytes, for the .eml file and for SMTP alike.

        Written out here rather than through the email package, whose header folding
        cost over 80 % of this service's CPU per order; the rules that matter are few:
        ASCII headers (RFC 2047 words for anything else), CRLF line ends, and a
        quoted-printable body when it is not plain ASCII (still readable in a file).
        """
        ascii_body = self.body.isascii()
        body = self.body.encode() if ascii_body else b2a_qp(self.body.encode(), header=False)
        headers = (
            f"From: {sender}",
            f"To: {_header_text(self.to)}",
            f"Subject: {_header_text(self.subject)}",
            # A Message-ID derived from the key lets a mail server drop a resend too.
            f"Message-ID: <{self.key}@microshop.local>",
            f"Date: {format_datetime(sent_at)}",
            "MIME-Version: 1.0",
            f'Content-Type: text/plain; charset="{"us-ascii" if ascii_body else "utf-8"}"',
            f"Content-Transfer-Encoding: {'7bit' if ascii_body else 'quoted-printable'}",
        )
        text = "\r\n".join(headers).encode() + b"\r\n\r\n"
        return text + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _header_text(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


@dataclass(frozen=True, slots=True)
class SentMessage:
    """An e-mail that went out, as the service recorded it (its body is kept, not shown)."""

    id: int
    key: str
    event_id: str
    recipient: str
    subject: str
    transport: str  # "smtp" or "file"
    location: str  # the SMTP server or the .eml file
    sent_at: datetime


def _about_order(order: OrderCreated | OrderOutcome, subject: str, text: str) -> Email:
    """An e-mail to the order's customer, keyed by the order and the fact (sent once)."""
    return Email(
        key=f"order-{order.id}-{order.TYPE}",
        to=order.user_email,
        subject=f"Order #{order.id} {subject}",
        body=f"Hello {order.user_name},\n\n{text}-- microshop\n",
    )


def _total(order: OrderCreated | OrderOutcome) -> Decimal:
    return Decimal(order.total).quantize(Decimal("0.01"))


def order_confirmation(order: OrderCreated) -> Email:
    return _about_order(
        order,
        "confirmed",
        f"thank you for your order #{order.id}:\n\n"
        f"  {order.quantity} x {order.product_name} at {order.unit_price}\n"
        f"  total: {_total(order)}\n\n"
        f"We will let you know when it ships.\n\n",
    )


def order_outcome(order: OrderOutcome) -> Email:
    what = {
        OrderApproved.TYPE: ("approved", "is paid and on its way to the warehouse."),
        OrderRejected.TYPE: (
            "rejected",
            "could not be completed; nothing was charged or it was refunded.",
        ),
        OrderCancelled.TYPE: ("cancelled", "is cancelled; any payment was refunded."),
    }[order.TYPE]
    reason = f"\nReason: {order.reason}\n" if order.reason else ""
    return _about_order(
        order,
        what[0],
        f"your order #{order.id} (total {_total(order)}) {what[1]}\n{reason}\n",
    )
