"""The order saga as a pure state machine over a list of steps: which runs next,
what a success, a failure or a cancellation leads to, and which compensations
follow. No I/O: the orchestrator persists each state and performs each action;
steps.py declares the steps themselves, once.

Steps run in order (the order itself was created before the saga starts). A
failure compensates the completed steps in reverse, then the order is rejected.
When a step's outcome is unknown (it timed out), its own compensation runs too:
every compensation is safe when nothing was done.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from microshop.contracts.errors import Conflict


class Phase(StrEnum):
    FORWARD = "forward"
    COMPENSATING = "compensating"
    DONE = "done"


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Action(StrEnum):
    RUN = "run"
    COMPENSATE = "compensate"


class CannotCancel(Conflict):
    pass


class Named(Protocol):
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SagaState:
    phase: Phase = Phase.FORWARD
    # FORWARD: index of the next step to run. COMPENSATING: index of the next
    # step to compensate, counting down to -1.
    position: int = 0
    outcome: Outcome | None = None
    reason: str | None = None

    @property
    def finished(self) -> bool:
        return self.phase == Phase.DONE


class SagaPlan:
    """The transitions of a saga made of `steps`, in the order given."""

    def __init__(self, steps: Sequence[Named]) -> None:
        self.names = tuple(step.name for step in steps)

    def start(self) -> SagaState:
        return SagaState()

    def next_action(self, state: SagaState) -> tuple[Action, str] | None:
        if state.phase == Phase.FORWARD:
            return Action.RUN, self.names[state.position]
        if state.phase == Phase.COMPENSATING:
            return Action.COMPENSATE, self.names[state.position]
        return None

    def step_succeeded(self, state: SagaState) -> SagaState:
        _expect(state, Phase.FORWARD)
        position = state.position + 1
        if position == len(self.names):
            return SagaState(Phase.DONE, position, Outcome.APPROVED, None)
        return replace(state, position=position)

    def step_failed(
        self, state: SagaState, reason: str, *, outcome_unknown: bool = False
    ) -> SagaState:
        _expect(state, Phase.FORWARD)
        first = state.position if outcome_unknown else state.position - 1
        return _compensate_from(first, Outcome.REJECTED, reason)

    def compensated(self, state: SagaState) -> SagaState:
        _expect(state, Phase.COMPENSATING)
        return _compensate_from(state.position - 1, state.outcome, state.reason)

    def cancel(self, state: SagaState, reason: str = "Cancelled by request") -> SagaState:
        """A cancellation between steps: undo what was done, end `cancelled`."""
        if state.phase == Phase.FORWARD:
            return _compensate_from(state.position - 1, Outcome.CANCELLED, reason)
        if state.phase == Phase.DONE and state.outcome == Outcome.APPROVED:
            return _compensate_from(len(self.names) - 1, Outcome.CANCELLED, reason)
        raise CannotCancel(f"Order is already {state.outcome or 'being rejected'}")

    def approved(self) -> SagaState:
        """Where a refused compensation of an approved order leaves it: still approved."""
        return SagaState(Phase.DONE, len(self.names), Outcome.APPROVED)


def _compensate_from(position: int, outcome: Outcome | None, reason: str | None) -> SagaState:
    if position < 0:
        return SagaState(Phase.DONE, -1, outcome, reason)
    return SagaState(Phase.COMPENSATING, position, outcome, reason)


def _expect(state: SagaState, phase: Phase) -> None:
    if state.phase != phase:
        raise ValueError(f"saga is {state.phase}, not {phase}")
