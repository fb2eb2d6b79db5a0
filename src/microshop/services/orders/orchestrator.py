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
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import or_, select

from microshop.chassis.client import ServiceClient
from microshop.chassis.db import Database
from microshop.chassis.errors import ServiceUnavailable
from microshop.services.orders import saga
from microshop.services.orders.models import SagaRow
from microshop.services.orders.saga import Action, Outcome, Phase, SagaState
from microshop.services.orders.saga_store import LEASE, Progress, SagaStore
from microshop.services.orders.steps import (
    ACTIONS,
    COMPENSATIONS,
    Done,
    Failed,
    NotCompensable,
    SagaOrder,
)

log = structlog.get_logger()


class Unknown(Exception):
    """A step got no answer after its retries: it may or may not have happened."""


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
        self.store = SagaStore(db, self.owner, lease)
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
        progress = await self.store.claim(order_id)
        if progress is None:
            return
        try:
            while not progress.state.finished:
                state = progress.state
                if progress.cancel_requested and state.phase == Phase.FORWARD:
                    cancelled = saga.cancel(state, "Cancelled by request")
                    progress = await self.store.save(
                        progress, cancelled, "order", "cancel_requested"
                    )
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
                await self.store.release_lease(order_id)
            if event := self._finished.pop(order_id, None):
                event.set()

    async def _run(self, order_id: int, progress: Progress, step: str) -> Progress:
        state = progress.state
        if progress.announced != (step, "started"):
            await self.store.log(order_id, step, "started")
        self._crash_point(f"{step}.started")
        try:
            result = await self._with_retries(step, progress.order)
        except Unknown as exc:
            self._crash_point(f"{step}.called")
            new = saga.step_failed(state, f"{step} unavailable", outcome_unknown=True)
            return await self.store.save(progress, new, step, "failed", f"outcome unknown: {exc}")
        self._crash_point(f"{step}.called")
        if isinstance(result, Done):
            return await self.store.save(
                progress, saga.step_succeeded(state), step, "succeeded", result.detail
            )
        return await self.store.save(
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
            await self.store.log(order_id, step, "compensating")
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
                return await self.store.save(
                    progress, approved, step, "compensation_refused", str(exc)
                )
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
                await self.store.take_lease(order_id)
        self._crash_point(f"{step}.compensated")
        return await self.store.save(
            progress, saga.compensated(progress.state), step, "compensated", result.detail
        )

    def _crash_point(self, name: str) -> None:
        # Fault injection for the crash tests (MICROSHOP_ORDERS_CRASH_AT=inventory.called):
        # a real SIGKILL at a step boundary, exactly where a power cut could land.
        if self.crash_at == name:
            log.warning("crash point reached: killing this process", point=name)
            os.kill(os.getpid(), signal.SIGKILL)
