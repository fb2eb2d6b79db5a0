from microshop.runtime.restart_policy import MAX_FAILURES_BEFORE_READY, RestartPolicy


def test_restart_delays_double_up_to_thirty_seconds() -> None:
    policy = RestartPolicy()
    delays = [policy.delay_after_exit(uptime=1.0, was_ready=True) for _ in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_process_that_stayed_up_a_minute_restarts_quickly_again() -> None:
    policy = RestartPolicy()
    for _ in range(5):
        policy.delay_after_exit(uptime=1.0, was_ready=True)
    assert policy.delay_after_exit(uptime=61.0, was_ready=True) == 0.5
    assert policy.delay_after_exit(uptime=1.0, was_ready=True) == 1.0


def test_a_process_dying_before_it_was_ever_ready_is_given_up_on_the_third_exit() -> None:
    policy = RestartPolicy()
    delays = [policy.delay_after_exit(uptime=0.2, was_ready=False) for _ in range(3)]
    assert delays == [0.5, 1.0, None]
    assert policy.failures_before_ready == MAX_FAILURES_BEFORE_READY


def test_once_ready_a_process_is_restarted_however_often_it_dies() -> None:
    policy = RestartPolicy()
    policy.delay_after_exit(uptime=0.2, was_ready=False)
    delays = [policy.delay_after_exit(uptime=0.2, was_ready=True) for _ in range(10)]
    assert None not in delays
