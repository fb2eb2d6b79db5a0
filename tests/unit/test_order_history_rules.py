from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import permutations

from microshop.contracts.events import (
    OrderApproved,
    OrderCreated,
    OrderItem,
    PaymentSucceeded,
    ShipmentAdvanced,
    ShipmentCreated,
)
from microshop.services.order_history.domain import (
    OrderView,
    Stamped,
    fold_order_outcome,
    fold_order_placed,
    fold_payment,
    fold_shipment,
    newer_status,
)

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


def placed() -> OrderCreated:
    return OrderCreated(
        id=1,
        user_id=7,
        user_name="Ada",
        user_email="ada@example.com",
        product_id=1,
        product_name="Laptop",
        unit_price=Decimal("999.99"),
        quantity=2,
        total=Decimal("1999.98"),
        status="pending",
        created_at=T0,
        items=[
            OrderItem(product_id=1, product_name="Laptop", unit_price=Decimal("999.99"), quantity=2)
        ],
    )


def approved() -> OrderApproved:
    return OrderApproved(
        id=1,
        user_id=7,
        user_name="Ada",
        user_email="ada@example.com",
        total=Decimal("1999.98"),
        status="approved",
    )


def shipment(status: str, tracking_number: str) -> ShipmentCreated | ShipmentAdvanced:
    fact = ShipmentCreated if status == "created" else ShipmentAdvanced
    return fact(id=4, order_id=1, tracking_number=tracking_number, status=status)


def paid() -> PaymentSucceeded:
    return PaymentSucceeded(
        id=3, order_id=1, user_id=7, amount=Decimal("1999.98"), status="succeeded"
    )


Fold = Callable[[OrderView], OrderView]

# An order's facts, each folded in at the time it happened.
FACTS: list[Fold] = [
    lambda view: fold_order_placed(view, placed(), T0),
    lambda view: fold_payment(view, paid(), T0 + timedelta(seconds=1)),
    lambda view: fold_shipment(view, shipment("created", "MS1"), T0 + timedelta(seconds=2)),
    lambda view: fold_order_outcome(view, approved(), T0 + timedelta(seconds=3)),
]


def fold_all(folds: Iterable[Fold]) -> OrderView:
    view = OrderView(order_id=1)
    for fold in folds:
        view = fold(view)
    return view


def test_the_facts_of_an_order_fold_into_the_same_view_in_every_order() -> None:
    view = fold_all(FACTS)
    assert all(fold_all(arrival) == view for arrival in permutations(FACTS))
    assert (view.status, view.payment_status, view.shipment_status) == (
        "approved",
        "succeeded",
        "created",
    )
    assert view.updated_at == T0 + timedelta(seconds=3)
    assert view.items == (
        {"product_id": 1, "product_name": "Laptop", "unit_price": 999.99, "quantity": 2},
    )


def test_folding_a_fact_again_changes_nothing() -> None:
    view = fold_all(FACTS)
    for fold in FACTS:
        assert fold(view) == view


def test_the_tracking_number_is_the_newest_shipments() -> None:
    newer = fold_shipment(
        OrderView(order_id=1), shipment("shipped", "MS2"), T0 + timedelta(seconds=5)
    )
    older = fold_shipment(newer, shipment("created", "MS1"), T0)
    assert (older.shipment_status, older.tracking_number) == ("shipped", "MS2")


def test_an_order_placed_after_its_outcome_fills_the_view_but_keeps_the_outcome() -> None:
    decided = fold_order_outcome(OrderView(order_id=1), approved(), T0)
    view = fold_order_placed(decided, placed(), T0 + timedelta(milliseconds=1))
    assert view.status == "approved" and view.placed_at == T0 and len(view.items) == 1


def test_a_customer_sees_only_their_own_view_and_an_admin_every_view() -> None:
    view = OrderView(order_id=1, user_id=7)
    assert view.visible_to(7, viewer_is_admin=False)
    assert not view.visible_to(8, viewer_is_admin=False)
    assert view.visible_to(None, viewer_is_admin=True)
    assert not OrderView(order_id=2).visible_to(None, viewer_is_admin=False)
