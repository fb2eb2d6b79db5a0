"""Where the order saga's state lives: the saga row, its step log and the lease,
each change one transaction in the orders database (see saga.py for the rules and
orchestrator.py for who calls what, when)."""

import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Update, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.db import Database
from microshop.chassis.outbox import record_event
from microshop.contracts.events import OrderApproved, OrderCancelled, OrderRejected
from microshop.services.orders import saga
from microshop.services.orders.models import OrderRow, SagaRow, SagaStepRow
from microshop.services.orders.saga import Action, Outcome, Phase, SagaState
from microshop.services.orders.steps import SagaOrder

log = structlog.get_logger()

# How long a replica's claim on a saga lasts unless renewed; after a crash, the
# saga waits this long for another process (or the restarted one) to resume it.
LEASE = timedelta(seconds=30)
OUTCOME_EVENTS = {
    Outcome.APPROVED: OrderApproved,
    Outcome.REJECTED: OrderRejected,
    Outcome.CANCELLED: OrderCancelled,
}


def state_of(row: SagaRow) -> SagaState:
    return SagaState(
        Phase(row.phase), row.position, Outcome(row.outcome) if row.outcome else None, row.reason
    )


@dataclass(frozen=True, slots=True)
class Progress:
    """What a driver knows between steps, so it need not re-read it."""

    order: SagaOrder
    state: SagaState
    cancel_requested: bool
    # The log entry already written for the next action ("started"/"compensating").
    announced: tuple[str, str] | None


class SagaStore:
    def __init__(self, db: Database, owner: str, lease: timedelta = LEASE) -> None:
        self.db, self.owner, self.lease = db, owner, lease

    async def log(self, order_id: int, step: str, event: str, detail: str | None = None) -> None:
        async with self.db.sessions.begin() as session:
            session.add(SagaStepRow(order_id=order_id, step=step, event=event, detail=detail))

    async def save(
        self, progress: Progress, state: SagaState, step: str, event: str, detail: str | None = None
    ) -> Progress:
        """The new state, its log entry, the announcement of the next action and, at
        the end, the order's outcome and its event: one transaction, so a crash
        leaves either all of it or none. Announcing the next step here (instead of
        in a transaction of its own) halves the commits a saga makes."""
        order_id = progress.order.order_id
        now = datetime.now(UTC)
        async with self.db.sessions.begin() as session:
            if state.outcome == Outcome.APPROVED and await self._cancel_pending(session, order_id):
                # A cancellation asked for while the last step ran: undo it all now.
                state = saga.cancel(state, "Cancelled by request")
            row = await session.get(SagaRow, order_id)
            assert row is not None
            row.phase, row.position = state.phase.value, state.position
            row.outcome = state.outcome.value if state.outcome else None
            row.reason, row.updated_at = state.reason, now
            row.lease_until = now + self.lease
            session.add(SagaStepRow(order_id=order_id, step=step, event=event, detail=detail))
            cancel_requested, announced = row.cancel_requested, None
            if not state.finished and not (cancel_requested and state.phase == Phase.FORWARD):
                action, next_step = state.next_action()  # type: ignore[misc]
                announced = (next_step, "started" if action == Action.RUN else "compensating")
                session.add(SagaStepRow(order_id=order_id, step=next_step, event=announced[1]))
            if state.finished:
                row.cancel_requested, row.card_number = False, None
                row.lease_owner, row.lease_until = None, None
                order = await session.get(OrderRow, order_id)
                assert order is not None and state.outcome is not None
                order.status, order.reason = state.outcome.value, state.reason
                await record_event(
                    session,
                    OUTCOME_EVENTS[state.outcome](
                        id=order.id,
                        user_id=order.user_id,
                        user_name=order.user_name,
                        user_email=order.user_email,
                        total=order.total,
                        status=order.status,
                        reason=order.reason,
                    ),
                )
        if state.finished:
            log.info("saga finished", order_id=order_id, outcome=state.outcome, reason=state.reason)
        return replace(
            progress, state=state, cancel_requested=cancel_requested, announced=announced
        )

    async def _cancel_pending(self, session: AsyncSession, order_id: int) -> bool:
        """Whether a cancel is pending, asked as a conditional write rather than a
        read: the write locks the row until this transaction ends, so a cancel that
        commits meanwhile either shows here or finds the saga done and undoes it."""
        claimed = await session.execute(
            update(SagaRow)
            .where(SagaRow.order_id == order_id, SagaRow.cancel_requested.is_(False))
            .values(phase=Phase.DONE.value)
        )
        return bool(claimed.rowcount == 0)  # type: ignore[attr-defined]

    async def claim(self, order_id: int) -> Progress | None:
        """Takes the saga's lease and reads what the driver needs, in one transaction."""
        now = datetime.now(UTC)
        async with self.db.sessions.begin() as session:
            taken = await session.execute(self._lease_statement(order_id, now))
            if not taken.rowcount:  # type: ignore[attr-defined]
                return None
            row = await session.get(SagaRow, order_id)
            order = await session.get(OrderRow, order_id)
            if row is None or order is None:
                return None
            last = await session.scalar(
                select(SagaStepRow)
                .where(SagaStepRow.order_id == order_id)
                .order_by(SagaStepRow.id.desc())
                .limit(1)
            )
            return Progress(
                order=SagaOrder(
                    order_id=order.id,
                    user_id=order.user_id,
                    total=order.total,
                    items=[(line.product_id, line.quantity) for line in order.lines],
                    card_number=row.card_number,
                ),
                state=state_of(row),
                cancel_requested=row.cancel_requested,
                announced=(last.step, last.event) if last else None,
            )

    def _lease_statement(self, order_id: int, now: datetime) -> Update:
        return (
            update(SagaRow)
            .where(
                SagaRow.order_id == order_id,
                or_(
                    SagaRow.lease_until.is_(None),
                    SagaRow.lease_until < now,
                    SagaRow.lease_owner == self.owner,
                ),
            )
            .values(lease_owner=self.owner, lease_until=now + self.lease)
        )

    async def take_lease(self, order_id: int) -> bool:
        now = datetime.now(UTC)
        async with self.db.sessions.begin() as session:
            taken = await session.execute(self._lease_statement(order_id, now))
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def release_lease(self, order_id: int) -> None:
        with contextlib.suppress(Exception):
            async with self.db.sessions.begin() as session:
                await session.execute(
                    update(SagaRow)
                    .where(SagaRow.order_id == order_id, SagaRow.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None)
                )
