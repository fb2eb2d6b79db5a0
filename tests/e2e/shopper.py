"""What a customer and the admin do through the gateway, and the e-mails they get,
for the end-to-end tests of events and the saga."""

import asyncio
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from tests.e2e.system import ADMIN_EMAIL, ADMIN_PASSWORD, System
from tests.support.http import Api
from tests.support.waiting import eventually

MAIL_TIMEOUT = 20.0


async def sign_up(api: Api, name: str) -> tuple[dict[str, Any], Api]:
    """A new customer, and a client that calls the API as them."""
    email, password = f"{name}@example.com", f"{name}-secret-pw"
    status, user = await api.post(
        "/api/users", {"name": name, "email": email, "password": password}
    )
    assert status == 201, user
    status, token = await api.post("/api/auth/token", {"email": email, "password": password})
    assert status == 200, token
    return user, api.as_user(token["access_token"])


async def as_admin(api: Api) -> Api:
    status, token = await api.post(
        "/api/auth/token", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert status == 200, token
    return api.as_user(token["access_token"])


def mail_dir(system: System) -> Path:
    return system.data_dir / "mail"


def emails_with_subject(system: System, subject: str) -> list[Message]:
    found = []
    for path in sorted(mail_dir(system).glob("*.eml")):
        message = message_from_bytes(path.read_bytes())
        if message["Subject"] == subject:
            found.append(message)
    return found


async def email(system: System, subject: str, timeout: float = MAIL_TIMEOUT) -> Message:
    """The one e-mail with this subject, once it arrives; fails if there are two."""
    found = await eventually(
        lambda: emails_with_subject(system, subject),
        timeout,
        interval=0.2,
        message=f"no e-mail {subject!r}",
    )
    assert len(found) == 1, f"{len(found)} e-mails {subject!r}"
    return found[0]


async def stock(api: Api, product_id: int) -> int:
    status, product = await api.get(f"/api/products/{product_id}")
    assert status == 200, product
    return int(product["stock"])


async def order_is_confirmed_once(api: Api, system: System, name: str) -> dict[str, Any]:
    """A new customer orders; exactly one confirmation e-mail reaches them. Returns
    the order."""
    user, customer = await sign_up(api, name)
    status, order = await customer.post("/api/orders", {"product_id": 2, "quantity": 1})
    assert status == 201, order
    subject = f"Order #{order['id']} confirmed"
    message = await email(system, subject)
    assert message["To"] == user["email"]
    await asyncio.sleep(1.0)  # a duplicate delivery would have landed by now
    assert len(emails_with_subject(system, subject)) == 1
    return dict(order)
