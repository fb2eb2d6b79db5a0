"""Which load engine a run uses, and why the report says so."""

import pytest

from microshop.bench.engines import choose_engine
from microshop.bench.load import InvalidPlan, LoadPlan

CLOSED = LoadPlan(duration_s=5, concurrency=16)
OPEN = LoadPlan(duration_s=5, rate=100)


@pytest.fixture
def wrk_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")


@pytest.fixture
def wrk_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)


def test_a_closed_loop_runs_on_wrk_where_it_is_installed(wrk_installed: None) -> None:
    assert choose_engine(None, CLOSED, "order").name == "wrk"
    assert choose_engine("wrk", CLOSED, "checkout").name == "wrk"
    assert choose_engine("aiohttp", CLOSED, "order").name == "aiohttp"


def test_an_open_loop_and_mixed_always_run_on_aiohttp(wrk_installed: None) -> None:
    for requested in (None, "wrk", "aiohttp"):
        open_loop = choose_engine(requested, OPEN, "order")
        assert open_loop.name == "aiohttp"
        assert open_loop.note is not None and "rate control" in open_loop.note
        assert choose_engine(requested, CLOSED, "mixed").name == "aiohttp"


def test_without_wrk_the_default_falls_back_and_the_report_says_so(wrk_missing: None) -> None:
    choice = choose_engine(None, CLOSED, "order")
    assert choice.name == "aiohttp"
    assert choice.note is not None and "wrk is not on PATH" in choice.note
    with pytest.raises(InvalidPlan, match="apt-get install wrk"):
        choose_engine("wrk", CLOSED, "order")


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(InvalidPlan, match="unknown engine"):
        choose_engine("ab", CLOSED, "order")
