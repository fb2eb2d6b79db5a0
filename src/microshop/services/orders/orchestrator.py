"""Drives order sagas: performs the action saga.py chooses, persists the new
state and a log entry before moving on, and resumes every unfinished saga after
a restart. A lease on the saga row keeps two orders replicas from driving the
same saga at once; a replica that dies simply lets its lease run out.
"""

import asyncio
import contextlib
import os
import random
import signal
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Update, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from microshop.chassis.client import ServiceClient
from microshop.chassis.db import Database
from microshop.chassis.errors import ServiceUnavailable
from microshop.chassis.outbox import record_event
from microshop.contracts.events import OrderApproved, OrderCancelled, OrderRejected
from microshop.services.orders import saga
from microshop.services.orders.models import OrderRow, SagaRow, SagaStepRow
from microshop.services.orders.saga import Action, Outcome, Phase, SagaState
from microshop.services.orders.steps import (
    ACTIONS,
    COMPENSATIONS,
    Done,
    Failed,
    NotCompensable,
    SagaOrder,
)

log = structlog.get_logger()

# How long a replica's claim on a saga lasts unless renewed; after a crash, the
# saga waits this long for another process (or the restarted one) to resume it.
LEASE = timedelta(seconds=30)
OUTCOME_EVENTS = {
    Outcome.APPROVED: OrderApproved,
    Outcome.REJECTED: OrderRejected,
    Outcome.CANCELLED: OrderCancelled,
}


class Unknown(Exception):
    """A step got no answer after its retries: it may or may not have happened."""


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


class Orchestrator:
    def __init__(
        self,
        db: Database,
        client: ServiceClient,
        *,
        step_attempts: int = 3,
        compensation_deadline: float = 300.0,
        crash_at: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.db, self.client = db, client
        self.lease = lease
        self.step_attempts = step_attempts
        self.compensation_deadline = compensation_deadline
        self.crash_at = crash_at
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.running: dict[int, asyncio.Task[None]] = {}
        # Sagas changed (a cancel) while their task was already ending: drive again.
        self._drive_again: set[int] = set()
        self._stopping = False
        self._finished: dict[int, asyncio.Event] = {}
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self, sweep_every: float = 5.0) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(sweep_every), name="saga-sweeper")

    async def stop(self) -> None:
        self._stopping = True
        tasks = [t for t in (self._sweeper, *self.running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def launch(self, order_id: int) -> None:
        if self._stopping:
            return
        if order_id in self.running:
            # The running task may already have read the saga as finished and be
            # on its way out: it would miss the change that called us.
            self._drive_again.add(order_id)
            return
        task = asyncio.create_task(self._drive(order_id), name=f"saga-{order_id}")
        self.running[order_id] = task
        task.add_done_callback(lambda _: self._ended(order_id))

    def _ended(self, order_id: int) -> None:
        self.running.pop(order_id, None)
        if order_id in self._drive_again:
            self._drive_again.discard(order_id)
            self.launch(order_id)

    async def wait_finished(self, order_id: int, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            event = self._finished.setdefault(order_id, asyncio.Event())
            async with self.db.sessions() as session:
                row = await session.get(SagaRow, order_id)
                if row is None or row.phase == Phase.DONE:
                    return
            # A run that ends wakes us, but it may have ended before the change we
            # wait on (a cancel) was even made: check the saga again.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def resume_unfinished(self) -> int:
        """Launches every unfinished saga nobody holds a live lease on."""
        now = datetime.now(UTC)
        async with self.db.sessions() as session:
            ids = await session.scalars(
                select(SagaRow.order_id).where(
                    SagaRow.phase != Phase.DONE,
                    or_(SagaRow.lease_until.is_(None), SagaRow.lease_until < now),
                )
            )
            waiting = [i for i in ids if i not in self.running]
        for order_id in waiting:
            self.launch(order_id)
        return len(waiting)

    async def _sweep_forever(self, every: float) -> None:
        while True:
            try:
                if resumed := await self.resume_unfinished():
                    log.info("resumed unfinished sagas", count=resumed)
            except Exception as exc:
                log.warning("saga sweep failed", error=repr(exc))
            await asyncio.sleep(every)

    # -- one saga ----------------------------------------------------------------

    async def _drive(self, order_id: int) -> None:
        progress = await self._claim(order_id)
        if progress is None:
            return
        try:
            while not progress.state.finished:
                state = progress.state
                if progress.cancel_requested and state.phase == Phase.FORWARD:
                    cancelled = saga.cancel(state, "Cancelled by request")
                    progress = await self._save(progress, cancelled, "order", "cancel_requested")
                    continue
                action, step = state.next_action()  # type: ignore[misc]
                if action == Action.RUN:
                    progress = await self._run(order_id, progress, step)
                else:
                    progress = await self._compensate(order_id, progress, step)
        except Exception:
            log.exception(
                "saga stopped on an unexpected error; the sweeper will resume it", order_id=order_id
            )
        finally:
            if not progress.state.finished:  # a finished saga's last save dropped the lease
                await self._release_lease(order_id)
            if event := self._finished.pop(order_id, None):
                event.set()

    async def _run(self, order_id: int, progress: Progress, step: str) -> Progress:
        state = progress.state
        if progress.announced != (step, "started"):
            await self._log(order_id, step, "started")
        self._crash_point(f"{step}.started")
        try:
            result = await self._with_retries(step, progress.order)
        except Unknown as exc:
            self._crash_point(f"{step}.called")
            new = saga.step_failed(state, f"{step} unavailable", outcome_unknown=True)
            return await self._save(progress, new, step, "failed", f"outcome unknown: {exc}")
        self._crash_point(f"{step}.called")
        if isinstance(result, Done):
            return await self._save(
                progress, saga.step_succeeded(state), step, "succeeded", result.detail
            )
        return await self._save(
            progress, saga.step_failed(state, result.reason), step, "failed", result.reason
        )

    async def _with_retries(self, step: str, order: SagaOrder) -> Done | Failed:
        for attempt in range(1, self.step_attempts + 1):
            try:
                return await ACTIONS[step](self.client, order)
            except ServiceUnavailable as exc:
                if attempt == self.step_attempts:
                    raise Unknown(exc.message) from None
                # Jittered, so sagas that failed together do not retry in lockstep.
                await asyncio.sleep(random.uniform(0.5, 1.0) * 0.4 * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _compensate(self, order_id: int, progress: Progress, step: str) -> Progress:
        if progress.announced != (step, "compensating"):
            await self._log(order_id, step, "compensating")
        self._crash_point(f"{step}.compensating")
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + self.compensation_deadline, 0.2
        while True:
            try:
                result = await COMPENSATIONS[step](self.client, progress.order)
                break
            except NotCompensable as exc:
                # Only a cancellation of an approved order gets here: it stays approved.
                approved = SagaState(Phase.DONE, len(saga.STEPS), Outcome.APPROVED)
                return await self._save(progress, approved, step, "compensation_refused", str(exc))
            except Exception as exc:
                if loop.time() > deadline:
                    raise  # left compensating: the sweeper resumes it later
                log.warning(
                    "compensation failed, retrying",
                    order_id=order_id,
                    step=step,
                    error=repr(exc),
                    in_s=delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                await self._take_lease(order_id)
        self._crash_point(f"{step}.compensated")
        return await self._save(
            progress, saga.compensated(progress.state), step, "compensated", result.detail
        )

    # -- persistence -------------------------------------------------------------

    async def _log(self, order_id: int, step: str, event: str, detail: str | None = None) -> None:
        async with self.db.sessions.begin() as session:
            session.add(SagaStepRow(order_id=order_id, step=step, event=event, detail=detail))

    async def _save(
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

    async def _claim(self, order_id: int) -> Progress | None:
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

    async def _take_lease(self, order_id: int) -> bool:
        now = datetime.now(UTC)
        async with self.db.sessions.begin() as session:
            taken = await session.execute(self._lease_statement(order_id, now))
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def _release_lease(self, order_id: int) -> None:
        with contextlib.suppress(Exception):
            async with self.db.sessions.begin() as session:
                await session.execute(
                    update(SagaRow)
                    .where(SagaRow.order_id == order_id, SagaRow.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None)
                )

    def _crash_point(self, name: str) -> None:
        # Fault injection for the crash tests (MICROSHOP_ORDERS_CRASH_AT=inventory.called):
        # a real SIGKILL at a step boundary, exactly where a power cut could land.
        if self.crash_at == name:
            log.warning("crash point reached: killing this process", point=name)
            os.kill(os.getpid(), signal.SIGKILL)
