"""The shipments' statements, written once, and rows read back as domain objects."""

from sqlalchemy import bindparam, select, update

from microshop.chassis.data import Query, insert_into, timestamp
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import row_reader
from microshop.services.shipping.domain import Shipment, ShipmentStatus
from microshop.services.shipping.models import shipments

# Skipped when the order already has a row (a shipment or a tombstone) or, about
# once in 36**10, when the tracking number was drawn before.
NEW_SHIPMENT = insert_into(
    shipments,
    ["order_id", "user_id", "address", "tracking_number", "status", "created_at", "updated_at"],
    on_duplicate="skip",
    returns_id=True,
)
# A cancellation that came before any shipment: no tracking number, so only the
# order id can collide.
NEW_TOMBSTONE = insert_into(
    shipments,
    ["order_id", "status", "created_at", "updated_at"],
    on_duplicate="skip",
    returns_id=True,
)
BY_ID = Query(select(shipments).where(shipments.c.id == bindparam("id")))
BY_ORDER = Query(select(shipments).where(shipments.c.order_id == bindparam("order_id")))
# Conditional: of two concurrent cancels only one matches the row (and records the event).
CANCEL = Query(
    update(shipments)
    .where(
        shipments.c.order_id == bindparam("order_id"),
        shipments.c.status == ShipmentStatus.CREATED.value,
    )
    .values(status=ShipmentStatus.CANCELLED.value, updated_at=bindparam("at"))
)
# Conditional on the status it was read in: of two concurrent advances only one moves it.
ADVANCE = Query(
    update(shipments)
    .where(shipments.c.id == bindparam("id"), shipments.c.status == bindparam("current"))
    .values(status=bindparam("target"), updated_at=bindparam("at"))
)
LISTING = Listing(shipments, shipments.c.id, filters=("user_id", "order_id"))


shipment_from = row_reader(
    Shipment, status=ShipmentStatus, created_at=timestamp, updated_at=timestamp
)
