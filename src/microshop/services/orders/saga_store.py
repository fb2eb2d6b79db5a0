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

from microshop.chassis.data import Database, Row, Transaction, money, utc_now
from microshop.chassis.outbox import record_event
from microshop.contracts.events import OrderApproved, OrderCancelled, OrderRejected
from microshop.services.orders.saga import Action, Outcome, Phase, SagaState
from microshop.services.orders.saga_queries import (
    FINISH,
    FINISH_UNLESS_CANCELLED,
    LAST_LOG,
    LEASE_HOLDER,
    LINES,
    LOG,
    NEW_SAGA,
    ORDER,
    ORDER_OUTCOME,
    RELEASE_LEASE,
    RESUMABLE,
    SAGA,
    SAVE,
    SAVE_UNLESS_CANCELLED,
    SAVED_AND_LOGGED,
    TAKE_LEASE,
)
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


def _entries(entry: LogEntry, announced: tuple[str, str] | None) -> list[LogEntry]:
    """What a save logs: its own entry, then the next action it announces."""
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
        if self.db.dialect == "postgresql" and state.phase == Phase.FORWARD and not state.finished:
            announced = announcement(state)
            if await self._saved_in_one_statement(
                order.order_id, state, now, _entries(entry, announced)
            ):
                return replace(progress, state=state, cancel_requested=False, announced=announced)
        async with self.db.transaction() as tx:
            state = await self._write_state(tx, order.order_id, state, now)
            announced = announcement(state)
            await _log(tx, order.order_id, now, *_entries(entry, announced))
            if state.finished:
                await self._finish_order(tx, order, state)
        if state.finished:
            SAGA_OUTCOMES.labels(state.outcome.value if state.outcome else "none").inc()
            # Debug, not info: one line per order is most of a busy log (and its CPU).
            log.debug(
                "saga finished", order_id=order.order_id, outcome=state.outcome, reason=state.reason
            )
        return replace(progress, state=state, cancel_requested=False, announced=announced)

    async def _saved_in_one_statement(
        self, order_id: int, state: SagaState, now: datetime, entries: list[LogEntry]
    ) -> bool:
        """A forward save that ends nothing, as one statement (SAVED_AND_LOGGED).
        False when it wrote nothing: a cancel is pending or the lease is gone, and
        the transaction of `save` then finds out which and acts on it."""
        steps, events, details = (list(c) for c in zip(*entries, strict=True))
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
