"""CPU and memory of real processes: a system's tree, and the load generator's own CPU."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from microshop.bench.probes import generator_cpu_s
from microshop.bench.process_cpu import ProcessWatch, PsutilTable, assign_names
from tests.support.waiting import wait_until

PARENT_OF_A_SLEEPER = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"
BUSY_CHILD = "sum(i * i for i in range(3_000_000))"


@pytest.fixture
def parent_with_child() -> Iterator[subprocess.Popen[bytes]]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT_OF_A_SLEEPER])
    try:
        yield parent
    finally:
        children = [pid for pid, ppid in PsutilTable().parents().items() if ppid == parent.pid]
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait(timeout=10)


def test_a_named_process_counts_its_children_too(
    parent_with_child: subprocess.Popen[bytes],
) -> None:
    table = PsutilTable()

    def parent_and_child() -> dict[int, str]:
        named = assign_names({parent_with_child.pid: "service"}, table.parents())
        return named if len(named) == 2 else {}

    named = wait_until(parent_and_child, timeout=5, message="the child never started")
    assert set(named.values()) == {"service"}
    watch = ProcessWatch(lambda: {parent_with_child.pid: "service"})
    memory = watch.memory()
    assert memory.processes == 2
    assert memory.rss_bytes > 2**20 and memory.pss_bytes > 0
    watch.begin()
    watch.end()
    assert set(watch.cpu_by_name()) == {"service"}


def test_a_process_that_is_gone_is_skipped() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=10)
    assert PsutilTable().read(gone.pid) is None
    assert ProcessWatch(lambda: {gone.pid: "gone"}).memory().processes == 0


def test_the_load_generator_counts_the_children_it_waited_for() -> None:
    before = generator_cpu_s()
    subprocess.run([sys.executable, "-c", BUSY_CHILD], check=True)
    own_and_child = generator_cpu_s() - before
    assert own_and_child > 0.05  # the child's 3 million squares, not just our wait
