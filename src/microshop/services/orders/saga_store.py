"""Where the order saga's state lives: the saga row, its step log and the lease,
in the orders database (saga.py has the rules, orchestrator.py the driving).

The first state is written by the order's own transaction (service.place_order);
every later save is one transaction whose first statement is a fenced UPDATE
(`WHERE order_id = ? AND lease_owner = ?`): a replica that lost its lease changes
nothing, and a cancellation asked for meanwhile makes a forward save match no row,
so the driver learns of it exactly when it matters.
"""

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from prometheus_client import Counter
from sqlalchemy import ARRAY, String, bindparam, false, func, insert, or_, select, true, update
from sqlalchemy.sql.expression import Executable

from microshop.chassis.data import Database, Query, Row, Transaction, insert_into, money, utc_now
from microshop.chassis.outbox import record_event
from microshop.contracts.events import OrderApproved, OrderCancelled, OrderRejected
from microshop.services.orders.models import order_lines, orders, saga_steps, sagas
from microshop.services.orders.saga import Action, Outcome, Phase, SagaState
from microshop.services.orders.steps import ORDER_SAGA, SagaOrder

log = structlog.get_logger()

SAGA_OUTCOMES = Counter(
    "microshop_saga_outcomes",
    "Order sagas finished, by outcome (approved, rejected, cancelled)",
    ["outcome"],
)

# How long a replica's claim on a saga lasts unless renewed; after a crash, the
# saga waits this long for another process (or the restarted one) to resume it.
LEASE = timedelta(seconds=30)
OUTCOME_EVENTS = {
    Outcome.APPROVED: OrderApproved,
    Outcome.REJECTED: OrderRejected,
    Outcome.CANCELLED: OrderCancelled,
}

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


class LeaseLost(Exception):
    """Another replica took this saga over (our lease ran out): stop driving it."""


def state_of(row: Row) -> SagaState:
    return SagaState(
        Phase(row["phase"]),
        row["position"],
        Outcome(row["outcome"]) if row["outcome"] else None,
        row["reason"],
    )


@dataclass(frozen=True, slots=True)
class Progress:
    """What a driver knows between steps, so it need not re-read it."""

    order: SagaOrder
    state: SagaState
    cancel_requested: bool
    # The log entry already written for the next action ("started"/"compensating").
    announced: tuple[str, str] | None


def announcement(state: SagaState) -> tuple[str, str] | None:
    """The log entry that says which action comes next, written with the state."""
    next_action = ORDER_SAGA.next_action(state)
    if next_action is None:
        return None
    action, step = next_action
    return step, "started" if action == Action.RUN else "compensating"


async def write_first_state(
    tx: Transaction, order: SagaOrder, owner: str, lease: timedelta, now: datetime
) -> Progress:
    """The saga's first row, its lease and its first two log entries, inside the
    order's own transaction: the saga needs no claim before its first step."""
    state = ORDER_SAGA.start()
    await tx.execute(
        NEW_SAGA,
        order_id=order.order_id,
        phase=state.phase.value,
        position=state.position,
        cancel_requested=False,
        card_number=order.card_number,
        lease_owner=owner,
        lease_until=now + lease,
        created_at=now,
        updated_at=now,
    )
    announced = announcement(state)
    assert announced is not None
    await _log(tx, order.order_id, now, ("order", "created", None), (*announced, None))
    return Progress(order, state, cancel_requested=False, announced=announced)


# A line of the saga's log: (step, event, detail).
LogEntry = tuple[str, str, str | None]


def _entries(state: SagaState, entry: LogEntry) -> list[LogEntry]:
    """What a save logs: its own entry, then the next action it announces."""
    announced = announcement(state)
    return [entry] if announced is None else [entry, (*announced, None)]


async def _log(tx: Transaction, order_id: int, at: datetime, *entries: LogEntry) -> None:
    """Log entries (step, event, detail), in one round trip however many."""
    await tx.execute_many(
        LOG,
        [
            {"order_id": order_id, "step": step, "event": event, "detail": detail, "at": at}
            for step, event, detail in entries
        ],
    )


class SagaStore:
    def __init__(self, db: Database, owner: str, lease: timedelta = LEASE) -> None:
        self.db, self.owner, self.lease = db, owner, lease

    async def log(self, order_id: int, step: str, event: str, detail: str | None = None) -> None:
        async with self.db.transaction() as tx:
            await _log(tx, order_id, utc_now(), (step, event, detail))

    async def save(
        self, progress: Progress, state: SagaState, step: str, event: str, detail: str | None = None
    ) -> Progress:
        """The new state, its log entry, the announcement of the next action and, at
        the end, the order's outcome and its event: one transaction, so a crash
        leaves either all of it or none. Raises LeaseLost if another replica took over.
        On PostgreSQL a forward save that ends nothing is one statement instead."""
        order = progress.order
        now = utc_now()
        entry = (step, event, detail)
        if self.db.dialect == "postgresql" and await self._saved_in_one_statement(
            order.order_id, state, now, entry
        ):
            return replace(
                progress, state=state, cancel_requested=False, announced=announcement(state)
            )
        async with self.db.transaction() as tx:
            state = await self._write_state(tx, order.order_id, state, now)
            await _log(tx, order.order_id, now, *_entries(state, entry))
            if state.finished:
                await self._finish_order(tx, order, state)
        if state.finished:
            SAGA_OUTCOMES.labels(state.outcome.value if state.outcome else "none").inc()
            # Debug, not info: one line per order is most of a busy log (and its CPU).
            log.debug(
                "saga finished", order_id=order.order_id, outcome=state.outcome, reason=state.reason
            )
        return replace(progress, state=state, cancel_requested=False, announced=announcement(state))

    async def _saved_in_one_statement(
        self, order_id: int, state: SagaState, now: datetime, entry: LogEntry
    ) -> bool:
        """A forward save that ends nothing, as one statement (SAVED_AND_LOGGED).
        False when it wrote nothing: a cancel is pending or the lease is gone, and
        the transaction of `save` then finds out which and acts on it."""
        if state.phase != Phase.FORWARD or state.finished:
            return False
        steps, events, details = (list(c) for c in zip(*_entries(state, entry), strict=True))
        written = await self.db.fetch_value(
            SAVED_AND_LOGGED,
            **self._values(order_id, state, now),
            steps=steps,
            events=events,
            details=details,
        )
        return bool(written)

    async def _write_state(
        self, tx: Transaction, order_id: int, state: SagaState, now: datetime
    ) -> SagaState:
        """Writes `state`, or the cancellation of it when one is pending; returns
        which was written."""
        values = self._values(order_id, state, now)
        moving_on = state.phase == Phase.FORWARD or state.outcome == Outcome.APPROVED
        if moving_on:
            guarded = FINISH_UNLESS_CANCELLED if state.finished else SAVE_UNLESS_CANCELLED
            if await tx.execute(guarded, **values):
                return state
            holder = await tx.fetch_one(LEASE_HOLDER, order_id=order_id)
            if holder is None or holder["lease_owner"] != self.owner:
                raise LeaseLost(order_id)
            # A cancellation was asked for while the step ran: undo it all from here.
            state = ORDER_SAGA.cancel(state, "Cancelled by request")
            values = self._values(order_id, state, now)
        written = await tx.execute(FINISH if state.finished else SAVE, **values)
        if not written:
            raise LeaseLost(order_id)
        return state

    def _values(self, order_id: int, state: SagaState, now: datetime) -> dict[str, object]:
        return {
            "order_id": order_id,
            "owner": self.owner,
            "phase": state.phase.value,
            "position": state.position,
            "outcome": state.outcome.value if state.outcome else None,
            "reason": state.reason,
            "now": now,
            "lease_until": None if state.finished else now + self.lease,
        }

    async def _finish_order(self, tx: Transaction, order: SagaOrder, state: SagaState) -> None:
        assert state.outcome is not None
        await tx.execute(
            ORDER_OUTCOME, order_id=order.order_id, status=state.outcome.value, reason=state.reason
        )
        await record_event(
            tx,
            OUTCOME_EVENTS[state.outcome](
                id=order.order_id,
                user_id=order.user_id,
                user_name=order.user_name,
                user_email=order.user_email,
                total=order.total,
                status=state.outcome.value,
                reason=state.reason,
            ),
        )

    async def claim(self, order_id: int) -> Progress | None:
        """Takes the lease of a saga nobody drives (a resume) and reads what the
        driver needs, in one transaction; None if someone else holds it."""
        now = utc_now()
        async with self.db.transaction() as tx:
            taken = await self._take_lease(tx, order_id, now)
            if not taken:
                return None
            saga = await tx.fetch_one(SAGA, order_id=order_id)
            order = await tx.fetch_one(ORDER, order_id=order_id)
            if saga is None or order is None:
                return None
            lines = await tx.fetch_all(LINES, order_id=order_id)
            last = await tx.fetch_one(LAST_LOG, order_id=order_id)
        return Progress(
            order=SagaOrder(
                order_id=order_id,
                user_id=order["user_id"],
                user_name=order["user_name"],
                user_email=order["user_email"],
                total=money(order["total"]),
                items=[(line["product_id"], line["quantity"]) for line in lines],
                card_number=saga["card_number"],
            ),
            state=state_of(saga),
            cancel_requested=bool(saga["cancel_requested"]),
            announced=(last["step"], last["event"]) if last else None,
        )

    async def take_lease(self, order_id: int) -> bool:
        now = utc_now()
        async with self.db.transaction() as tx:
            taken = await self._take_lease(tx, order_id, now)
        return bool(taken)

    async def _take_lease(self, tx: Transaction, order_id: int, now: datetime) -> int:
        return await tx.execute(
            TAKE_LEASE, order_id=order_id, owner=self.owner, now=now, lease_until=now + self.lease
        )

    async def release_lease(self, order_id: int) -> None:
        with contextlib.suppress(Exception):
            async with self.db.transaction() as tx:
                await tx.execute(RELEASE_LEASE, order_id=order_id, owner=self.owner)

    async def resumable(self) -> list[int]:
        rows = await self.db.fetch_all(RESUMABLE, now=utc_now())
        return [row["order_id"] for row in rows]
