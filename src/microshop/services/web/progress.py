"""An order as its page tells it: the headline, whether it can still change, whether
it can be cancelled, and the saga's steps in words. Pure, from the orders API's
answer (`GET /orders/{id}`: status, reason, saga {phase, outcome, steps})."""

from dataclasses import dataclass
from typing import Any

HEADLINES = {
    "pending": "Pending: payment, stock and shipment are being arranged.",
    "approved": "Approved: paid, and a parcel is on its way.",
    "rejected": "Rejected: every step that was done has been undone.",
    "cancelled": "Cancelled: every step that was done has been undone.",
}
# What each step of the saga does (services/orders/steps.py), for a shopper.
STEPS = {
    "order": "Order",
    "payment": "Payment",
    "inventory": "Stock reservation",
    "shipping": "Shipment",
}
EVENTS = {
    "created": "placed",
    "succeeded": "done",
    "compensating": "being undone",
    "compensated": "undone",
}


@dataclass(frozen=True, slots=True)
class Step:
    what: str
    event: str
    detail: str | None
    at: str | None


@dataclass(frozen=True, slots=True)
class Progress:
    status: str
    headline: str
    reason: str | None
    # Nothing more will happen: the page stops watching.
    final: bool
    cancellable: bool
    steps: list[Step]


def progress_of(order: dict[str, Any]) -> Progress:
    status = str(order.get("status") or "pending")
    saga = order.get("saga") or {}
    phase = saga.get("phase")
    settled = phase in (None, "done")
    final = status != "pending" and settled
    undoing = phase == "compensating"
    headline = HEADLINES.get(status, status.capitalize())
    if undoing:
        headline = "Being cancelled: completed steps are being undone."
    steps = [
        Step(
            what=STEPS.get(str(s.get("step")), str(s.get("step", "")).replace("_", " ").title()),
            event=EVENTS.get(str(s.get("event")), str(s.get("event", "")).replace("_", " ")),
            detail=s.get("detail"),
            at=s.get("at"),
        )
        for s in saga.get("steps") or []
    ]
    return Progress(
        status=status,
        headline=headline,
        reason=order.get("reason"),
        final=final,
        cancellable=status in ("pending", "approved") and not undoing,
        steps=steps,
    )
