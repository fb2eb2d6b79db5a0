"""The embedded NATS's environment: our Go collector setting, unless the caller set one."""

from microshop.runtime.nats import nats_env


def test_the_embedded_nats_gets_a_tighter_go_collector_by_default() -> None:
    assert nats_env({"PATH": "/usr/bin"}) == {"GOGC": "50", "PATH": "/usr/bin"}


def test_a_gogc_the_caller_set_wins() -> None:
    assert nats_env({"GOGC": "200"})["GOGC"] == "200"
