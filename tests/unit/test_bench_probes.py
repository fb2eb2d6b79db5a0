"""CPU and memory of the processes of a system under test."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from microshop.bench.probes import ProcessGroup, UsageWatch, own_cpu_s, with_descendants

PARENT_OF_A_SLEEPER = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"


@pytest.fixture
def parent_with_child() -> Iterator[subprocess.Popen[bytes]]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT_OF_A_SLEEPER])
    try:
        yield parent
    finally:
        for pid in with_descendants([parent.pid])[1:]:
            os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait(timeout=10)


def test_a_system_counts_its_processes_children_too(
    parent_with_child: subprocess.Popen[bytes],
) -> None:
    pids: list[int] = []
    for _ in range(100):  # the child needs a moment to start
        pids = with_descendants([parent_with_child.pid])
        if len(pids) == 2:
            break
        time.sleep(0.05)
    assert pids[0] == parent_with_child.pid and len(pids) == 2
    usage = ProcessGroup(lambda: pids).usage()
    assert usage.processes == 2
    assert usage.rss_mib > 1


def test_a_process_that_is_gone_is_skipped() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=10)
    assert ProcessGroup(lambda: [gone.pid]).usage().processes == 0


def test_cpu_is_measured_between_two_samples() -> None:
    watch = UsageWatch(ProcessGroup(lambda: []))
    before = own_cpu_s()
    sum(i * i for i in range(300_000))
    assert own_cpu_s() > before
    watch.sample()
    watch.sample()
    assert watch.cpu_s == 0.0
    assert watch.peak_rss_bytes == 0
