from datetime import UTC, datetime, timedelta

from microshop.services.order_history.domain import Stamped, newer_status

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_an_older_fact_never_overwrites_a_newer_one() -> None:
    part = Stamped()
    assert part.apply("shipped", T0 + timedelta(seconds=5))
    assert not part.apply("created", T0)
    assert part.value == "shipped"


def test_an_outcome_beats_pending_even_when_pending_looks_later() -> None:
    status = Stamped()
    assert newer_status(status, "approved", T0)
    # order.created from the orders clock, a hair later than the outcome's stamp
    assert not newer_status(status, "pending", T0 + timedelta(milliseconds=1))
    assert status.value == "approved"


def test_a_cancellation_after_approval_wins() -> None:
    status = Stamped("approved", T0)
    assert newer_status(status, "cancelled", T0 + timedelta(seconds=1))
    assert status.value == "cancelled"
