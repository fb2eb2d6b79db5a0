"""The saga sweep reads only unfinished sagas: every finished one stays in the
table for good, so a query that read them all would grow with the shop's history
(9 ms at 30,000 orders, in the event loop, every sweep)."""

import sqlite3
from pathlib import Path

from microshop.chassis.data import open_database
from microshop.chassis.migrations import upgrade_to_head
from microshop.services.orders import saga_store
from microshop.services.orders.saga_queries import RESUMABLE, UNFINISHED

MIGRATIONS = Path(saga_store.__file__).parent / "migrations"


async def test_the_sweeps_search_the_phase_index_instead_of_reading_every_saga(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.db"
    db = await open_database(f"sqlite:///{path}")
    try:
        await upgrade_to_head(db, MIGRATIONS)  # the schema as the service has it
    finally:
        await db.close()
    conn = sqlite3.connect(path)
    try:
        for query, params in ((RESUMABLE, {"now": "2026"}), (UNFINISHED, {"cutoff": "2026"})):
            compiled = query.compiled("sqlite")
            binds = {**(compiled.literals or {}), **params}
            plan = conn.execute("EXPLAIN QUERY PLAN " + compiled.sql, binds).fetchall()
            steps = [row[3] for row in plan]
            assert any("USING INDEX ix_sagas_phase" in step for step in steps), steps
            assert not any(step.startswith("SCAN sagas") for step in steps), steps
    finally:
        conn.close()
