"""Drives order sagas: performs the action saga.py chooses, persists the new
state and a log entry before moving on, and resumes every unfinished saga after
a restart. A lease on the saga row keeps two orders replicas from driving the
same saga at once; a replica that dies simply lets its lease run out.

A new order's saga starts in the process that took the order, from the state its
own transaction wrote (lease included), so the first step runs without a read.
"""

import asyncio
import contextlib
import os
import uuid
import weakref
from datetime import timedelta

import structlog
from sqlalchemy import bindparam, select

from microshop.chassis.backoff import backoff
from microshop.chassis.client import ServiceClient
from microshop.chassis.data import Database, Query
from microshop.chassis.faults import crash_point
from microshop.chassis.tasks import stop_tasks
from microshop.contracts.errors import Unavailable
from microshop.services.orders.models import sagas
from microshop.services.orders.saga import Action, Phase
from microshop.services.orders.saga_store import LEASE, LeaseLost, Progress, SagaStore
from microshop.services.orders.service import SagaOwner
from microshop.services.orders.steps import ORDER_SAGA, STEP_NAMED, Done, Failed, NotCompensable

log = structlog.get_logger()

PHASE = Query(select(sagas.c.phase).where(sagas.c.order_id == bindparam("order_id")))
# How often a waiter looks at a saga driven by another replica (no event reaches it).
WAIT_POLL_S = 0.25


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
        lease: timedelta = LEASE,
    ) -> None:
        self.db, self.client = db, client
        self.lease = lease
        self.step_attempts = step_attempts
        self.compensation_deadline = compensation_deadline
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.store = SagaStore(db, self.owner, lease)
        self.running: dict[int, asyncio.Task[None]] = {}
        # Sagas changed (a cancel) while their task was already ending: drive again.
        self._drive_again: set[int] = set()
        self._stopping = False
        # What wait_finished() waits on, per order, while someone waits: an entry
        # goes with its last waiter (a plain dict kept one per order whose wait
        # found it already finished, for good).
        self._finished: weakref.WeakValueDictionary[int, asyncio.Event] = (
            weakref.WeakValueDictionary()
        )
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def saga_owner(self) -> SagaOwner:
        return SagaOwner(self.owner, self.lease)

    # -- lifecycle ---------------------------------------------------------------

    def start(self, sweep_every: float = 5.0) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(sweep_every), name="saga-sweeper")

    async def stop(self) -> None:
        self._stopping = True
        await stop_tasks([self._sweeper, *self.running.values()])

    def launch(self, order_id: int, progress: Progress | None = None) -> None:
        """Drives the saga in this process: from `progress` if the caller just wrote
        it (a new order), else from the database once its lease can be taken."""
        if self._stopping:
            return
        if order_id in self.running:
            # The running task may already have read the saga as finished and be
            # on its way out: it would miss the change that called us.
            self._drive_again.add(order_id)
            return
        task = asyncio.create_task(self._drive(order_id, progress), name=f"saga-{order_id}")
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
            phase = await self.db.fetch_value(PHASE, order_id=order_id)
            if phase is None or phase == Phase.DONE:
                return
            # A run that ends here wakes us; it may also have ended before the change
            # we wait on (a cancel) was made, or run elsewhere: so look again.
            wait = remaining if order_id in self.running else min(remaining, WAIT_POLL_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), wait)

    async def resume_unfinished(self) -> int:
        """Launches every unfinished saga nobody holds a live lease on."""
        waiting = [i for i in await self.store.resumable() if i not in self.running]
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

    async def _drive(self, order_id: int, progress: Progress | None) -> None:
        progress = progress or await self.store.claim(order_id)
        if progress is None:
            return
        lost = False
        try:
            while not progress.state.finished:
                progress = await self._advance(progress)
        except LeaseLost:
            lost = True
            log.info("saga taken over by another replica", order_id=order_id)
        except Exception:
            log.exception(
                "saga stopped on an unexpected error; the sweeper will resume it", order_id=order_id
            )
        finally:
            # A finished saga's last save dropped the lease; a lost one is not ours.
            if not progress.state.finished and not lost:
                await self.store.release_lease(order_id)
            if event := self._finished.pop(order_id, None):
                event.set()

    async def _advance(self, progress: Progress) -> Progress:
        state = progress.state
        if progress.cancel_requested and state.phase == Phase.FORWARD:
            cancelled = ORDER_SAGA.cancel(state, "Cancelled by request")
            return await self.store.save(progress, cancelled, "order", "cancel_requested")
        action, step = ORDER_SAGA.next_action(state)  # type: ignore[misc]
        if action == Action.RUN:
            return await self._run(progress, step)
        return await self._compensate(progress, step)

    async def _run(self, progress: Progress, step: str) -> Progress:
        order_id, state = progress.order.order_id, progress.state
        if progress.announced != (step, "started"):
            await self.store.log(order_id, step, "started")
        crash_point(f"{step}.started")
        try:
            with self.client.tracer.span(f"saga step {step}") as span:
                span.attributes["order.id"] = order_id
                result = await self._with_retries(step, progress)
        except Unknown as exc:
            crash_point(f"{step}.called")
            new = ORDER_SAGA.step_failed(state, f"{step} unavailable", outcome_unknown=True)
            return await self.store.save(progress, new, step, "failed", f"outcome unknown: {exc}")
        crash_point(f"{step}.called")
        if isinstance(result, Done):
            succeeded = ORDER_SAGA.step_succeeded(state)
            return await self.store.save(progress, succeeded, step, "succeeded", result.detail)
        failed = ORDER_SAGA.step_failed(state, result.reason)
        return await self.store.save(progress, failed, step, "failed", result.reason)

    async def _with_retries(self, step: str, progress: Progress) -> Done | Failed:
        for attempt in range(1, self.step_attempts + 1):
            try:
                return await STEP_NAMED[step].action(self.client, progress.order)
            except Unavailable as exc:
                if attempt == self.step_attempts:
                    raise Unknown(exc.message) from None
                # Jittered, so sagas that failed together do not retry in lockstep.
                await asyncio.sleep(backoff(attempt, base=0.4, jitter=True))
        raise AssertionError("unreachable")

    async def _compensate(self, progress: Progress, step: str) -> Progress:
        order_id = progress.order.order_id
        if progress.announced != (step, "compensating"):
            await self.store.log(order_id, step, "compensating")
        crash_point(f"{step}.compensating")
        loop = asyncio.get_running_loop()
        deadline, attempt = loop.time() + self.compensation_deadline, 0
        while True:
            try:
                with self.client.tracer.span(f"saga compensate {step}") as span:
                    span.attributes["order.id"] = order_id
                    result = await STEP_NAMED[step].compensation(self.client, progress.order)
                break
            except NotCompensable as exc:
                # Only a cancellation of an approved order gets here: it stays approved.
                return await self.store.save(
                    progress, ORDER_SAGA.approved(), step, "compensation_refused", str(exc)
                )
            except Exception as exc:
                if loop.time() > deadline:
                    raise  # left compensating: the sweeper resumes it later
                attempt += 1
                delay = backoff(attempt)
                log.warning(
                    "compensation failed, retrying",
                    order_id=order_id,
                    step=step,
                    error=repr(exc),
                    in_s=delay,
                )
                await asyncio.sleep(delay)
                if not await self.store.take_lease(order_id):
                    raise LeaseLost(order_id) from None
        crash_point(f"{step}.compensated")
        undone = ORDER_SAGA.compensated(progress.state)
        return await self.store.save(progress, undone, step, "compensated", result.detail)
