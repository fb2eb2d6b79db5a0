"""An order as the storefront's page tells it, from the orders API's answer."""

from typing import Any

from microshop.services.web.progress import progress_of


def order(status: str, phase: str | None, reason: str | None = None, **saga: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": 7, "status": status, "reason": reason, "saga": None}
    if phase is not None:
        answer["saga"] = {"phase": phase, "outcome": None, "steps": saga.get("steps", [])}
    return answer


def test_a_pending_order_is_watched_and_may_be_cancelled() -> None:
    seen = progress_of(order("pending", "forward"))
    assert (seen.final, seen.cancellable) == (False, True)
    assert seen.headline.startswith("Pending")


def test_an_approved_order_is_final_and_may_still_be_cancelled() -> None:
    seen = progress_of(order("approved", "done"))
    assert (seen.final, seen.cancellable) == (True, True)


def test_a_rejected_order_is_final_shows_its_reason_and_cannot_be_cancelled() -> None:
    seen = progress_of(order("rejected", "done", reason="Out of stock"))
    assert (seen.final, seen.cancellable, seen.reason) == (True, False, "Out of stock")


def test_an_approved_order_being_undone_is_still_watched_and_says_so() -> None:
    seen = progress_of(order("approved", "compensating"))
    assert (seen.final, seen.cancellable) == (False, False)
    assert seen.headline.startswith("Being cancelled")


def test_an_order_without_a_saga_is_as_final_as_its_status() -> None:
    assert progress_of(order("approved", None)).final
    assert not progress_of(order("pending", None)).final


def test_the_sagas_steps_are_told_in_words() -> None:
    steps = [
        {"step": "inventory", "event": "failed", "detail": "Out of stock", "at": "x"},
        {"step": "payment", "event": "compensated", "detail": "refunded", "at": "y"},
        {"step": "gift_wrap", "event": "succeeded", "detail": None, "at": "z"},
    ]
    told = progress_of(order("rejected", "done", steps=steps)).steps
    assert [(s.what, s.event, s.detail) for s in told] == [
        ("Stock reservation", "failed", "Out of stock"),
        ("Payment", "undone", "refunded"),
        ("Gift Wrap", "done", None),
    ]
