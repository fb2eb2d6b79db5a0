"""The order saga's steps, each declared once: its name, what it does to another
service over that service's internal HTTP API, and how it is undone. The state
machine (saga.py, through ORDER_SAGA), the orchestrator and the step log all
follow this table; adding a step touches only STEPS.

A step's action answers Done, or Failed: a business refusal (declined card, no
stock), which is final: the saga compensates. No answer (Unavailable) is retried
by the orchestrator, then counted as unknown, and that step is compensated too.
A compensation answers Done, or raises NotCompensable, which is final: the
effect stays (a parcel that has left keeps the order approved). Every call carries
an idempotency key derived from the order and the step, so repeating a call after
a crash changes nothing; compensations are safe to repeat and safe when the step
never happened.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from microshop.chassis.client import Reply, ServiceClient
from microshop.services.orders.saga import SagaPlan


@dataclass(frozen=True, slots=True)
class Done:
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str


class NotCompensable(Exception):
    """The effect can no longer be undone (the parcel has left)."""


@dataclass(frozen=True, slots=True)
class SagaOrder:
    """What the steps (and the saga's last event) need to know of the order."""

    order_id: int
    user_id: int
    user_name: str
    user_email: str
    total: Decimal
    items: list[tuple[int, int]]  # (product id, quantity)
    card_number: str | None


def idempotency_key(order_id: int, step: str) -> str:
    return f"order-{order_id}-{step}"


def _reason(reply: Reply, default: str) -> str:
    body = reply.body if isinstance(reply.body, dict) else {}
    return str(body.get("reason") or body.get("error") or default)


async def charge_payment(client: ServiceClient, order: SagaOrder) -> Done | Failed:
    reply = await client.post(
        "payments",
        "/internal/payments",
        json={
            "order_id": order.order_id,
            "user_id": order.user_id,
            "amount": str(order.total),
            "card_number": order.card_number,
        },
        headers={"Idempotency-Key": idempotency_key(order.order_id, "payment")},
    )
    if reply.ok and reply.body.get("status") == "succeeded":
        return Done(f"payment {reply.body['id']}")
    return Failed(_reason(reply, "Payment failed"))


async def refund_payment(client: ServiceClient, order: SagaOrder) -> Done:
    reply = await _compensate(client, "payments", "/internal/payments/refund-order", order)
    return Done("refunded" if reply.body.get("refunded") else "nothing was charged")


async def decrease_stock(client: ServiceClient, order: SagaOrder) -> Done | Failed:
    reply = await client.post(
        "catalog",
        "/internal/stock/decrease",
        json={
            "order_id": order.order_id,
            "items": [{"product_id": p, "quantity": q} for p, q in order.items],
        },
    )
    if reply.ok and reply.body.get("status") == "decreased":
        return Done()
    return _refusal(reply, "Stock unavailable")


async def restore_stock(client: ServiceClient, order: SagaOrder) -> Done:
    await _compensate(client, "catalog", "/internal/stock/restore", order)
    return Done()


async def create_shipment(client: ServiceClient, order: SagaOrder) -> Done | Failed:
    reply = await client.post(
        "shipping",
        "/internal/shipments",
        json={"order_id": order.order_id, "user_id": order.user_id},
    )
    if reply.ok and reply.body.get("status") == "created":
        return Done(f"tracking {reply.body.get('tracking_number')}")
    return _refusal(reply, "Shipping refused")


async def cancel_shipment(client: ServiceClient, order: SagaOrder) -> Done:
    # Not through _compensate: its 409 is final, not an answer to retry.
    reply = await client.post(
        "shipping", "/internal/shipments/cancel", json={"order_id": order.order_id}
    )
    if reply.status == 409:
        raise NotCompensable(_reason(reply, "Shipment already shipped"))
    _expect_ok(reply, "shipping")
    return Done()


def _refusal(reply: Reply, default: str) -> Failed:
    # A success with another status is the tombstone a compensation left first.
    if reply.ok:
        return Failed("Order was cancelled")
    return Failed(_reason(reply, default))


async def _compensate(client: ServiceClient, service: str, path: str, order: SagaOrder) -> Reply:
    reply = await client.post(service, path, json={"order_id": order.order_id})
    _expect_ok(reply, service)
    return reply


def _expect_ok(reply: Reply, service: str) -> None:
    if not reply.ok:
        # A compensation must not be skipped: an unexpected answer is retried later.
        raise RuntimeError(f"{service} answered {reply.status} to a compensation: {reply.body}")


@dataclass(frozen=True)
class Step:
    name: str
    action: Callable[[ServiceClient, SagaOrder], Awaitable[Done | Failed]]
    compensation: Callable[[ServiceClient, SagaOrder], Awaitable[Done]]


# The chapter's order: process payment, update inventory, create the shipment.
STEPS: tuple[Step, ...] = (
    Step("payment", charge_payment, refund_payment),
    Step("inventory", decrease_stock, restore_stock),
    Step("shipping", create_shipment, cancel_shipment),
)
STEP_NAMED = {step.name: step for step in STEPS}
ORDER_SAGA = SagaPlan(STEPS)
