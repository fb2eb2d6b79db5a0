"""The statements of the saga store (saga_store.py): the saga row, its log and its
lease. Every write to a saga that a driver makes is fenced by its lease
(`lease_owner = :owner`), so a replica that lost the lease changes nothing."""

from sqlalchemy import ARRAY, String, bindparam, false, func, insert, or_, select, true, update
from sqlalchemy.sql.expression import Executable

from microshop.chassis.data import Query, insert_into
from microshop.services.orders.models import order_lines, orders, saga_steps, sagas
from microshop.services.orders.saga import Outcome, Phase

NEW_SAGA = insert_into(
    sagas,
    [
        "order_id",
        "phase",
        "position",
        "cancel_requested",
        "card_number",
        "lease_owner",
        "lease_until",
        "created_at",
        "updated_at",
    ],
)
LOG = insert_into(saga_steps, ["order_id", "step", "event", "detail", "at"])
_STATE = {
    "phase": bindparam("phase"),
    "position": bindparam("position"),
    "outcome": bindparam("outcome"),
    "reason": bindparam("reason"),
    "updated_at": bindparam("now"),
    "lease_until": bindparam("lease_until"),
}
_OWNED = (sagas.c.order_id == bindparam("order_id"), sagas.c.lease_owner == bindparam("owner"))
# Forward progress: matches nothing if a cancel is pending (or the lease is gone).
_FORWARD = update(sagas).where(*_OWNED, sagas.c.cancel_requested == false()).values(_STATE)
SAVE_UNLESS_CANCELLED = Query(_FORWARD)


def _saved_and_logged(dialect: str) -> Executable:
    """SAVE_UNLESS_CANCELLED and its log entries as one statement, for PostgreSQL:
    a data-modifying CTE, atomic without BEGIN and COMMIT, so a forward save costs
    one round trip instead of four. The entries are written only if the fenced
    UPDATE matched; the statement answers how many saga rows it changed (0 or 1)."""
    assert dialect == "postgresql", "data-modifying CTEs are PostgreSQL's"
    saved = _FORWARD.returning(sagas.c.order_id).cte("saved")
    entries = (
        func.unnest(
            bindparam("steps", type_=ARRAY(String)),
            bindparam("events", type_=ARRAY(String)),
            bindparam("details", type_=ARRAY(String)),
        )
        .table_valued("step", "event", "detail", with_ordinality="n")
        .render_derived(name="entries")
    )
    at = bindparam("now", type_=saga_steps.c.at.type)
    logged = (
        insert(saga_steps)
        .from_select(
            ["order_id", "step", "event", "detail", "at"],
            select(saved.c.order_id, entries.c.step, entries.c.event, entries.c.detail, at)
            .select_from(saved.join(entries, true()))
            .order_by(entries.c.n),  # the log's ids follow the entries' order
        )
        .cte("logged")
    )
    return select(func.count()).select_from(saved).add_cte(logged)


SAVED_AND_LOGGED = Query(_saved_and_logged)
# Compensating, or ending: whatever cancel was pending is being honoured now.
SAVE = Query(update(sagas).where(*_OWNED).values({**_STATE, "cancel_requested": False}))
# The end: the lease, the card number and any pending cancel are dropped with it.
_END = {**_STATE, "cancel_requested": False, "card_number": None, "lease_owner": None}
FINISH = Query(update(sagas).where(*_OWNED).values(_END))
FINISH_UNLESS_CANCELLED = Query(
    update(sagas).where(*_OWNED, sagas.c.cancel_requested == false()).values(_END)
)
ORDER_OUTCOME = Query(
    update(orders)
    .where(orders.c.id == bindparam("order_id"))
    .values(status=bindparam("status"), reason=bindparam("reason"))
)
LEASE_HOLDER = Query(
    select(sagas.c.lease_owner, sagas.c.cancel_requested).where(
        sagas.c.order_id == bindparam("order_id")
    )
)
TAKE_LEASE = Query(
    update(sagas)
    .where(
        sagas.c.order_id == bindparam("order_id"),
        sagas.c.phase != Phase.DONE.value,
        or_(
            sagas.c.lease_until.is_(None),
            sagas.c.lease_until < bindparam("now"),
            sagas.c.lease_owner == bindparam("owner"),
        ),
    )
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("lease_until"))
)
RELEASE_LEASE = Query(update(sagas).where(*_OWNED).values(lease_owner=None, lease_until=None))
SAGA = Query(select(sagas).where(sagas.c.order_id == bindparam("order_id")))
ORDER = Query(select(orders).where(orders.c.id == bindparam("order_id")))
LINES = Query(
    select(order_lines.c.product_id, order_lines.c.quantity)
    .where(order_lines.c.order_id == bindparam("order_id"))
    .order_by(order_lines.c.id)
)
LAST_LOG = Query(
    select(saga_steps.c.step, saga_steps.c.event)
    .where(saga_steps.c.order_id == bindparam("order_id"))
    .order_by(saga_steps.c.id.desc())
    .limit(1)
)
# Unfinished, said so that the phase index finds them: `phase != 'done'` made SQLite
# read every saga ever run (9 ms at 30,000 orders, in the event loop, each sweep).
# (An OR of equalities: the lean Query compiles no expanding IN list.)
_UNFINISHED_PHASE = or_(*(sagas.c.phase == p.value for p in Phase if p is not Phase.DONE))
RESUMABLE = Query(
    select(sagas.c.order_id)
    .where(
        _UNFINISHED_PHASE,
        or_(sagas.c.lease_until.is_(None), sagas.c.lease_until < bindparam("now")),
    )
    .order_by(sagas.c.order_id)
)

UNFINISHED = Query(
    select(sagas)
    .where(_UNFINISHED_PHASE, sagas.c.updated_at <= bindparam("cutoff"))
    .order_by(sagas.c.order_id)
)
FLAG_CANCEL = Query(
    update(sagas)
    .where(sagas.c.order_id == bindparam("order_id"), sagas.c.phase == Phase.FORWARD.value)
    .values(cancel_requested=True)
)
UNDO_APPROVED = Query(
    update(sagas)
    .where(
        sagas.c.order_id == bindparam("order_id"),
        sagas.c.phase == Phase.DONE.value,
        sagas.c.outcome == Outcome.APPROVED.value,
    )
    .values(
        phase=bindparam("phase"),
        position=bindparam("position"),
        outcome=bindparam("outcome"),
        reason=bindparam("reason"),
    )
)
