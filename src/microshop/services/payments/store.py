"""The payments' statements, written once, and rows read back as domain objects."""

from sqlalchemy import bindparam, select, update

from microshop.chassis.data import Query, insert_into, money, timestamp
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import row_reader
from microshop.chassis.data.values import optional_timestamp
from microshop.services.payments.domain import Payment, PaymentStatus
from microshop.services.payments.models import order_charges, payments

NEW_PAYMENT = insert_into(
    payments,
    [
        "idempotency_key",
        "order_id",
        "user_id",
        "amount",
        "status",
        "reason",
        "card_last4",
        "created_at",
    ],
    on_duplicate="skip",
    returns_id=True,
)
# Takes the order's one charge slot (with a payment) or voids it (payment_id None).
TAKE_SLOT = insert_into(
    order_charges, ["order_id", "payment_id", "created_at"], on_duplicate="skip"
)
SLOT = Query(select(order_charges).where(order_charges.c.order_id == bindparam("order_id")))
BY_ID = Query(select(payments).where(payments.c.id == bindparam("id")))
BY_KEY = Query(select(payments).where(payments.c.idempotency_key == bindparam("key")))
OF_ORDER = Query(
    select(payments).where(payments.c.order_id == bindparam("order_id")).order_by(payments.c.id)
)
# Conditional: of two concurrent refunds only one matches the row.
MARK_REFUNDED = Query(
    update(payments)
    .where(payments.c.id == bindparam("id"), payments.c.status == PaymentStatus.SUCCEEDED.value)
    .values(status=PaymentStatus.REFUNDED.value, refunded_at=bindparam("at"))
)
LISTING = Listing(payments, payments.c.id, filters=("user_id", "order_id"))


payment_from = row_reader(
    Payment,
    amount=money,
    status=PaymentStatus,
    created_at=timestamp,
    refunded_at=optional_timestamp,
)
