from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from microshop.services.notifications.domain import SENDER, Email

SENT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("subject", "body"),
    [("Order #1 confirmed", "Hello Ada,\n\nthanks\n"), ("Order #1 für Zoë", "Hallo Zoë,\n\n€ 5\n")],
)
def test_a_rendered_email_reads_back_with_every_header_and_its_body(
    subject: str, body: str
) -> None:
    email = Email("order-1-order.created", "ada@example.com", subject, body)
    message = message_from_bytes(email.rfc5322(SENT), policy=policy.default)
    assert message["From"] == SENDER
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == subject
    assert message["Message-ID"] == "<order-1-order.created@microshop.local>"
    assert message["Date"].datetime == SENT
    assert message.get_content().replace("\r\n", "\n") == body


def test_every_line_of_a_rendered_email_ends_in_crlf() -> None:
    raw = Email("k", "a@b.c", "s", "one\ntwo\r\nthree\n").rfc5322(SENT)
    assert b"\n" not in raw.replace(b"\r\n", b"")
