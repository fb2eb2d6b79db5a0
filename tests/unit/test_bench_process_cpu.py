"""Per-process CPU of a system under test, from a fake process table: names, descendants,
restarts, and the table a run prints."""

import re
from dataclasses import dataclass, field

from rich.console import Console

from microshop.bench.console import cpu_table
from microshop.bench.process_cpu import PAGE, ProcessWatch, Reading, assign_names
from microshop.bench.report import MemoryReport, cpu_report, process_rows
from tests.unit.test_bench_compare import result

MIB = 2**20
SUPERVISOR, USERS, ORDERS, GATEWAY = 10, 11, 12, 13
USERS_WORKER, STRAY_CHILD, SOMEONE_ELSE = 21, 22, 30


@dataclass
class FakeTable:
    """pid -> (parent, cpu seconds, rss, started at); edited between samples."""

    processes: dict[int, tuple[int, float, int, float]] = field(default_factory=dict)

    def parents(self) -> dict[int, int]:
        return {pid: parent for pid, (parent, *_) in self.processes.items()}

    def read(self, pid: int) -> Reading | None:
        if pid not in self.processes:
            return None
        _, cpu_s, rss, started_at = self.processes[pid]
        return Reading(cpu_s, rss, started_at)

    def pss_bytes(self, pid: int) -> int | None:
        return self.processes[pid][2] // 2 if pid in self.processes else None

    def frames(self, pid: int) -> set[int] | None:
        """Half of each one's pages are the same 5 MiB every process shares (a fork's
        libraries), the rest its own."""
        if pid not in self.processes:
            return None
        pages = self.processes[pid][2] // PAGE
        shared = set(range(min(pages // 2, 5 * MIB // PAGE)))
        own = {pid * 10**6 + n for n in range(pages - len(shared))}
        return shared | own

    def use(self, pid: int, cpu_s: float) -> None:
        parent, used, rss, started_at = self.processes[pid]
        self.processes[pid] = (parent, used + cpu_s, rss, started_at)


def microshop_like() -> FakeTable:
    return FakeTable(
        {
            1: (0, 500.0, 10 * MIB, 0.0),
            SUPERVISOR: (1, 5.0, 40 * MIB, 1.0),
            USERS: (SUPERVISOR, 10.0, 80 * MIB, 1.0),
            USERS_WORKER: (USERS, 1.0, 30 * MIB, 1.0),
            ORDERS: (SUPERVISOR, 20.0, 90 * MIB, 1.0),
            GATEWAY: (SUPERVISOR, 3.0, 50 * MIB, 1.0),
            STRAY_CHILD: (SUPERVISOR, 0.5, 5 * MIB, 1.0),
            SOMEONE_ELSE: (1, 99.0, 100 * MIB, 1.0),
        }
    )


ROOTS = {SUPERVISOR: "supervisor", USERS: "users", ORDERS: "orders", GATEWAY: "gateway"}


def test_each_process_counts_under_its_nearest_named_ancestor() -> None:
    named = assign_names(ROOTS, microshop_like().parents())
    assert named == {
        SUPERVISOR: "supervisor",
        USERS: "users",
        USERS_WORKER: "users",
        ORDERS: "orders",
        GATEWAY: "gateway",
        STRAY_CHILD: "supervisor",
    }


def test_cpu_is_what_each_name_used_between_begin_and_end() -> None:
    table = microshop_like()
    watch = ProcessWatch(lambda: ROOTS, table)
    watch.begin()
    table.use(USERS, 1.5)
    table.use(USERS_WORKER, 0.5)
    table.use(ORDERS, 3.0)
    table.use(STRAY_CHILD, 0.25)
    table.use(SOMEONE_ELSE, 50.0)
    watch.sample()
    table.use(ORDERS, 1.0)
    watch.end()
    assert watch.cpu_by_name() == {"supervisor": 0.25, "users": 2.0, "orders": 4.0, "gateway": 0.0}
    assert watch.processes == 6
    assert watch.peak_rss_bytes == 295 * MIB
    assert watch.rss_by_name["users"] == 110 * MIB


def test_a_restarted_service_counts_from_its_start_and_a_dead_one_keeps_its_last() -> None:
    table = microshop_like()
    roots = dict(ROOTS)
    watch = ProcessWatch(lambda: roots, table, rediscover_every=1)
    watch.begin()
    table.use(ORDERS, 2.0)
    watch.sample()
    # orders dies and comes back as pid 40, born after the window began
    del table.processes[ORDERS]
    table.processes[40] = (SUPERVISOR, 0.75, 60 * MIB, 4e9)
    roots = {**ROOTS, 40: "orders"}
    watch.sample()
    table.use(40, 1.0)
    watch.end()
    assert watch.cpu_by_name()["orders"] == 2.0 + 0.75 + 1.0


def test_memory_sums_rss_and_pss_over_the_named_processes() -> None:
    memory = ProcessWatch(lambda: ROOTS, microshop_like()).memory()
    assert memory.processes == 6
    assert memory.rss_bytes == 295 * MIB
    assert memory.pss_bytes == memory.rss_bytes // 2


def test_the_whole_system_holds_each_shared_page_once() -> None:
    memory = ProcessWatch(lambda: ROOTS, microshop_like()).memory()
    # The stray child shares 2.5 MiB of its 5, the other five 5 MiB each: every shared
    # page is held once.
    assert memory.resident_bytes == memory.rss_bytes - (2.5 + 4 * 5) * MIB


def test_the_cpu_table_has_a_row_per_process_the_total_and_the_rest() -> None:
    rows = process_rows(
        {"orders": 6.0, "users": 3.0, "gateway": 1.0}, {"orders": 90 * MIB}, 10.0, 2000
    )
    assert [row.name for row in rows] == ["orders", "users", "gateway"]
    orders = rows[0]
    assert (orders.cpu_s, orders.cores, orders.share, orders.us_per_ok) == (6.0, 0.6, 0.6, 3000.0)
    assert orders.rss_mib == 90.0
    cpu = cpu_report(rows, generator_s=0.5, machine_s=14.0, measured_s=10.0, ok=2000)
    assert (cpu.system_s, cpu.system_cores, cpu.us_per_ok) == (10.0, 1.0, 5000.0)
    assert (cpu.generator_cores, cpu.other_cores) == (0.05, 0.35)

    run = result("order", 200, cpu=cpu, memory=MemoryReport(250, 300, 9), engine="wrk")
    console = Console(width=120, record=True)
    console.print(cpu_table(run))
    text = console.export_text()
    lines = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    assert re.search(r"6\.00 .* 0\.60 .* 60\.0% .* 3,000 .* 90", lines["orders"])
    assert re.search(r"10\.00 .* 1\.00 .* 100% .* 5,000 .* 300", lines["system total"])
    assert "0.05" in lines["load generator (wrk)"]
    assert "0.35" in lines["everything else"]
