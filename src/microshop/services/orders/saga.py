"""The order saga as a pure state machine: which step runs next, what a success,
a failure or a cancellation leads to, and which compensations follow. No I/O:
the orchestrator persists each state and performs each action.

Steps run in the chapter's order (the order itself was created before the saga
starts): payment -> inventory -> shipping. A failure compensates the completed
steps in reverse (cancel shipment, restore stock, refund payment), then the order
is rejected. When a step's outcome is unknown (it timed out), its own
compensation runs too: every compensation is safe when nothing was done.
"""

from dataclasses import dataclass, replace
from enum import StrEnum

STEPS: tuple[str, ...] = ("payment", "inventory", "shipping")


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


class CannotCancel(Exception):
    pass


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

    def next_action(self) -> tuple[Action, str] | None:
        if self.phase == Phase.FORWARD:
            return Action.RUN, STEPS[self.position]
        if self.phase == Phase.COMPENSATING:
            return Action.COMPENSATE, STEPS[self.position]
        return None


def start() -> SagaState:
    return SagaState()


def step_succeeded(state: SagaState) -> SagaState:
    _expect(state, Phase.FORWARD)
    position = state.position + 1
    if position == len(STEPS):
        return SagaState(Phase.DONE, position, Outcome.APPROVED, None)
    return replace(state, position=position)


def step_failed(state: SagaState, reason: str, *, outcome_unknown: bool = False) -> SagaState:
    _expect(state, Phase.FORWARD)
    first = state.position if outcome_unknown else state.position - 1
    return _compensate_from(first, Outcome.REJECTED, reason)


def compensated(state: SagaState) -> SagaState:
    _expect(state, Phase.COMPENSATING)
    return _compensate_from(state.position - 1, state.outcome, state.reason)


def cancel(state: SagaState, reason: str = "Cancelled by request") -> SagaState:
    """A cancellation between steps: undo what was done, end `cancelled`."""
    if state.phase == Phase.FORWARD:
        return _compensate_from(state.position - 1, Outcome.CANCELLED, reason)
    if state.phase == Phase.DONE and state.outcome == Outcome.APPROVED:
        return _compensate_from(len(STEPS) - 1, Outcome.CANCELLED, reason)
    raise CannotCancel(f"order is already {state.outcome or 'being rejected'}")


def _compensate_from(position: int, outcome: Outcome | None, reason: str | None) -> SagaState:
    if position < 0:
        return SagaState(Phase.DONE, -1, outcome, reason)
    return SagaState(Phase.COMPENSATING, position, outcome, reason)


def _expect(state: SagaState, phase: Phase) -> None:
    if state.phase != phase:
        raise ValueError(f"saga is {state.phase}, not {phase}")
