from microshop.chassis.breaker import CircuitBreaker, State


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=5, reset_timeout=60, clock=clock)


def test_five_failures_in_a_row_open_the_breaker_and_calls_stop() -> None:
    b = breaker(Clock())
    for _ in range(4):
        b.record_failure()
        assert b.allow()
    b.record_failure()
    assert b.state == State.OPEN and not b.allow()


def test_a_success_resets_the_count_of_failures() -> None:
    b = breaker(Clock())
    for _ in range(4):
        b.record_failure()
    b.record_success()
    for _ in range(4):
        b.record_failure()
    assert b.state == State.CLOSED


def test_after_the_reset_timeout_one_trial_call_decides() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(5):
        b.record_failure()
    assert b.retry_after() == 60
    clock.now = 45
    assert b.retry_after() == 15 and not b.allow()
    clock.now = 60
    assert b.allow() and not b.allow()  # one trial at a time
    b.record_success()
    assert b.state == State.CLOSED and b.allow()


def test_a_failed_trial_opens_the_breaker_again_for_a_full_period() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(5):
        b.record_failure()
    clock.now = 61
    assert b.allow()
    b.record_failure()
    assert b.state == State.OPEN and b.retry_after() == 60
