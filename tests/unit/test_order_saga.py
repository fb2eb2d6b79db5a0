"""The order saga's state machine, in isolation and against a model."""

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from microshop.services.orders import saga
from microshop.services.orders.saga import STEPS, Action, CannotCancel, Outcome, Phase


def run(state: saga.SagaState, *events: str) -> list[tuple[Action, str] | None]:
    seen = []
    for event in events:
        seen.append(state.next_action())
        state = {
            "ok": saga.step_succeeded,
            "fail": lambda s: saga.step_failed(s, "no"),
            "timeout": lambda s: saga.step_failed(s, "timeout", outcome_unknown=True),
            "undone": saga.compensated,
        }[event](state)
    seen.append(state.next_action())
    return seen


def test_all_steps_succeeding_approves_the_order_in_the_chapters_order() -> None:
    state = saga.start()
    actions = []
    while not state.finished:
        actions.append(state.next_action())
        state = saga.step_succeeded(state)
    assert actions == [(Action.RUN, "payment"), (Action.RUN, "inventory"), (Action.RUN, "shipping")]
    assert state.outcome == Outcome.APPROVED


@pytest.mark.parametrize(
    ("failing", "compensations"),
    [
        ("payment", []),
        ("inventory", ["payment"]),
        ("shipping", ["inventory", "payment"]),
    ],
)
def test_a_failed_step_compensates_exactly_the_steps_before_it_in_reverse(
    failing: str, compensations: list[str]
) -> None:
    state = saga.start()
    while state.next_action() != (Action.RUN, failing):
        state = saga.step_succeeded(state)
    state = saga.step_failed(state, "declined")
    undone = []
    while not state.finished:
        action, step = state.next_action()  # type: ignore[misc]
        assert action == Action.COMPENSATE
        undone.append(step)
        state = saga.compensated(state)
    assert undone == compensations
    assert (state.outcome, state.reason) == (Outcome.REJECTED, "declined")


def test_a_step_that_timed_out_is_compensated_too() -> None:
    state = saga.step_succeeded(saga.start())
    state = saga.step_failed(state, "inventory unavailable", outcome_unknown=True)
    assert state.next_action() == (Action.COMPENSATE, "inventory")


def test_cancelling_an_approved_order_undoes_everything_from_shipping_back() -> None:
    state = saga.start()
    for _ in STEPS:
        state = saga.step_succeeded(state)
    state = saga.cancel(state)
    assert state.next_action() == (Action.COMPENSATE, "shipping")
    assert state.outcome == Outcome.CANCELLED


def test_a_rejected_order_cannot_be_cancelled() -> None:
    rejected = saga.step_failed(saga.start(), "declined")
    assert rejected.finished
    with pytest.raises(CannotCancel):
        saga.cancel(rejected)


class SagaAgainstModel(RuleBasedStateMachine):
    """Effects the model believes are in force must match what the machine says
    at the end: all of them when approved, none when rejected or cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.state = saga.start()
        self.in_force: list[str] = []  # applied (or maybe applied) and not yet undone

    def _action(self) -> tuple[Action, str] | None:
        return self.state.next_action()

    @precondition(lambda self: self.state.phase == Phase.FORWARD)
    @rule()
    def step_succeeds(self) -> None:
        _, step = self._action()  # type: ignore[misc]
        self.in_force.append(step)
        self.state = saga.step_succeeded(self.state)

    @precondition(lambda self: self.state.phase == Phase.FORWARD)
    @rule(unknown=st.booleans())
    def step_fails(self, unknown: bool) -> None:
        _, step = self._action()  # type: ignore[misc]
        if unknown:
            self.in_force.append(step)  # it may have happened: it must be undone
        self.state = saga.step_failed(self.state, "failed", outcome_unknown=unknown)

    @precondition(lambda self: self.state.phase == Phase.COMPENSATING)
    @rule()
    def compensation_done(self) -> None:
        _, step = self._action()  # type: ignore[misc]
        assert self.in_force and self.in_force[-1] == step, "compensations run in reverse"
        self.in_force.pop()
        self.state = saga.compensated(self.state)

    @precondition(
        lambda self: (
            self.state.phase == Phase.FORWARD
            or (self.state.finished and self.state.outcome == Outcome.APPROVED)
        )
    )
    @rule()
    def customer_cancels(self) -> None:
        self.state = saga.cancel(self.state)

    @precondition(lambda self: self.state.finished)
    @rule()
    def next_order(self) -> None:
        self.state, self.in_force = saga.start(), []

    @invariant()
    def finished_sagas_are_never_half_done(self) -> None:
        if not self.state.finished:
            return
        if self.state.outcome == Outcome.APPROVED:
            assert self.in_force == list(STEPS)
        else:
            assert self.in_force == []

    @invariant()
    def compensation_targets_the_latest_effect(self) -> None:
        if self.state.phase == Phase.COMPENSATING:
            assert self.in_force and self.state.next_action() == (
                Action.COMPENSATE,
                self.in_force[-1],
            )


TestSagaAgainstModel = SagaAgainstModel.TestCase
TestSagaAgainstModel.settings = settings(max_examples=200, stateful_step_count=20, deadline=None)
