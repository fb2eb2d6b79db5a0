"""The order saga's state machine, in isolation and against a model."""

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from microshop.services.orders.saga import Action, CannotCancel, Outcome, Phase, SagaState
from microshop.services.orders.steps import ORDER_SAGA as PLAN

STEPS = PLAN.names


def run(state: SagaState, *events: str) -> list[tuple[Action, str] | None]:
    seen = []
    for event in events:
        seen.append(PLAN.next_action(state))
        state = {
            "ok": PLAN.step_succeeded,
            "fail": lambda s: PLAN.step_failed(s, "no"),
            "timeout": lambda s: PLAN.step_failed(s, "timeout", outcome_unknown=True),
            "undone": PLAN.compensated,
        }[event](state)
    seen.append(PLAN.next_action(state))
    return seen


def test_all_steps_succeeding_approves_the_order_in_the_chapters_order() -> None:
    state = PLAN.start()
    actions = []
    while not state.finished:
        actions.append(PLAN.next_action(state))
        state = PLAN.step_succeeded(state)
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
    state = PLAN.start()
    while PLAN.next_action(state) != (Action.RUN, failing):
        state = PLAN.step_succeeded(state)
    state = PLAN.step_failed(state, "declined")
    undone = []
    while not state.finished:
        action, step = PLAN.next_action(state)  # type: ignore[misc]
        assert action == Action.COMPENSATE
        undone.append(step)
        state = PLAN.compensated(state)
    assert undone == compensations
    assert (state.outcome, state.reason) == (Outcome.REJECTED, "declined")


def test_a_step_that_timed_out_is_compensated_too() -> None:
    state = PLAN.step_succeeded(PLAN.start())
    state = PLAN.step_failed(state, "inventory unavailable", outcome_unknown=True)
    assert PLAN.next_action(state) == (Action.COMPENSATE, "inventory")


def test_cancelling_an_approved_order_undoes_everything_from_shipping_back() -> None:
    state = PLAN.start()
    for _ in STEPS:
        state = PLAN.step_succeeded(state)
    state = PLAN.cancel(state)
    assert PLAN.next_action(state) == (Action.COMPENSATE, "shipping")
    assert state.outcome == Outcome.CANCELLED


def test_a_rejected_order_cannot_be_cancelled() -> None:
    rejected = PLAN.step_failed(PLAN.start(), "declined")
    assert rejected.finished
    with pytest.raises(CannotCancel):
        PLAN.cancel(rejected)


class SagaAgainstModel(RuleBasedStateMachine):
    """Effects the model believes are in force must match what the machine says
    at the end: all of them when approved, none when rejected or cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.state = PLAN.start()
        self.in_force: list[str] = []  # applied (or maybe applied) and not yet undone

    def _action(self) -> tuple[Action, str] | None:
        return PLAN.next_action(self.state)

    @precondition(lambda self: self.state.phase == Phase.FORWARD)
    @rule()
    def step_succeeds(self) -> None:
        _, step = self._action()  # type: ignore[misc]
        self.in_force.append(step)
        self.state = PLAN.step_succeeded(self.state)

    @precondition(lambda self: self.state.phase == Phase.FORWARD)
    @rule(unknown=st.booleans())
    def step_fails(self, unknown: bool) -> None:
        _, step = self._action()  # type: ignore[misc]
        if unknown:
            self.in_force.append(step)  # it may have happened: it must be undone
        self.state = PLAN.step_failed(self.state, "failed", outcome_unknown=unknown)

    @precondition(lambda self: self.state.phase == Phase.COMPENSATING)
    @rule()
    def compensation_done(self) -> None:
        _, step = self._action()  # type: ignore[misc]
        assert self.in_force and self.in_force[-1] == step, "compensations run in reverse"
        self.in_force.pop()
        self.state = PLAN.compensated(self.state)

    @precondition(
        lambda self: (
            self.state.phase == Phase.FORWARD
            or (self.state.finished and self.state.outcome == Outcome.APPROVED)
        )
    )
    @rule()
    def customer_cancels(self) -> None:
        self.state = PLAN.cancel(self.state)

    @precondition(lambda self: self.state.finished)
    @rule()
    def next_order(self) -> None:
        self.state, self.in_force = PLAN.start(), []

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
            assert self.in_force and PLAN.next_action(self.state) == (
                Action.COMPENSATE,
                self.in_force[-1],
            )


TestSagaAgainstModel = SagaAgainstModel.TestCase
TestSagaAgainstModel.settings = settings(max_examples=200, stateful_step_count=20, deadline=None)
