import pytest

from microshop.contracts.errors import Conflict, DomainError, Invalid, NotFound
from microshop.services.shipping.domain import (
    TRACKING_NUMBER,
    CannotAdvance,
    ShipmentAlreadyShipped,
    ShipmentChangedMeanwhile,
    ShipmentNotFound,
    ShipmentStatus,
    ShippingRefused,
    may_cancel,
    new_tracking_number,
    next_status,
    refuses,
    visible_to,
)

CREATED, SHIPPED, DELIVERED, CANCELLED = (
    ShipmentStatus.CREATED,
    ShipmentStatus.SHIPPED,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.CANCELLED,
)


def test_a_tracking_number_is_ms_and_ten_uppercase_letters_or_digits() -> None:
    numbers = {new_tracking_number() for _ in range(200)}
    assert all(TRACKING_NUMBER.fullmatch(n) for n in numbers)
    assert all(len(n) == 12 and n.startswith("MS") for n in numbers)


def test_tracking_numbers_are_random_not_sequential() -> None:
    assert len({new_tracking_number() for _ in range(200)}) == 200


def test_a_shipment_advances_from_created_to_shipped_to_delivered() -> None:
    assert next_status(CREATED) == SHIPPED
    assert next_status(SHIPPED) == DELIVERED


@pytest.mark.parametrize("final", [DELIVERED, CANCELLED])
def test_a_delivered_or_cancelled_shipment_cannot_advance(final: ShipmentStatus) -> None:
    with pytest.raises(CannotAdvance, match=f"A {final} shipment cannot advance"):
        next_status(final)


@pytest.mark.parametrize(
    ("status", "allowed"),
    [(CREATED, True), (CANCELLED, True), (SHIPPED, False), (DELIVERED, False)],
)
def test_only_a_shipment_that_has_not_left_can_be_cancelled(
    status: ShipmentStatus, allowed: bool
) -> None:
    assert may_cancel(status) is allowed


@pytest.mark.parametrize(
    ("address", "refuse_all", "refused"),
    [
        ("1 Main Street", False, False),
        (None, False, False),
        ("Road to Nowhere 5", False, True),
        ("NOWHERE", False, True),
        ("1 Main Street", True, True),
        (None, True, True),
    ],
)
def test_shipping_refuses_everything_when_told_and_addresses_in_nowhere(
    address: str | None, refuse_all: bool, refused: bool
) -> None:
    assert refuses(address, refuse_all) is refused


def test_a_customer_sees_only_their_own_shipments_and_an_admin_all() -> None:
    assert visible_to(owner_id=3, viewer_id=3, viewer_is_admin=False)
    assert not visible_to(owner_id=3, viewer_id=4, viewer_is_admin=False)
    assert visible_to(owner_id=3, viewer_id=None, viewer_is_admin=True)


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (ShipmentNotFound(), NotFound, "Shipment not found"),
        (ShippingRefused(), Invalid, "Shipping refused"),
        (ShipmentAlreadyShipped(), Conflict, "Shipment already shipped"),
        (ShipmentChangedMeanwhile(), Conflict, "Shipment was changed by another request"),
        (CannotAdvance(DELIVERED), Conflict, "A delivered shipment cannot advance"),
    ],
)
def test_each_refusal_is_a_kind_the_chassis_answers(
    error: DomainError, kind: type[DomainError], message: str
) -> None:
    assert isinstance(error, kind)
    assert (error.message, error.details) == (message, {})
