"""SQLite's write-ahead log stays bounded under writes that never pause: the
checkpoint lets the log start over, and a restarted log file is cut back."""

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from microshop.chassis.data import Query, sqlite
from microshop.chassis.data.sqlite import SqliteDatabase

CREATE = Query(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"))
INSERT = Query(text("INSERT INTO notes (body) VALUES (:body)"))
WAL_FRAMES = Query(text("PRAGMA wal_checkpoint(PASSIVE)"))
WRITES = 4000
PAGE = 4096
# Each commit adds 3-4 frames: without a restart the log would hold ~16,000. How
# far it gets between two checkpoints depends on how fast this machine commits
# (5,197 frames seen on a fast hour of the VM), so the bound is half the total.
BOUND = 8_000


async def test_steady_writes_leave_a_wal_that_starts_over_and_a_file_cut_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small thresholds, so that a few thousand commits show what hours of load would.
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY_S", 0.02)
    monkeypatch.setattr(sqlite, "RESTART_WAL_FRAMES", 200)
    monkeypatch.setattr(sqlite, "WAL_FILE_LIMIT", 400 * PAGE)
    db = SqliteDatabase(f"sqlite:///{tmp_path / 'notes.db'}")
    wal = tmp_path / "notes.db-wal"
    try:
        async with db.transaction() as tx:
            await tx.execute(CREATE)
        largest = 0
        for _ in range(WRITES):  # one commit after another: the log never rests
            async with db.transaction() as tx:
                await tx.execute(INSERT, body=os.urandom(2 * PAGE))
            largest = max(largest, wal.stat().st_size)
            await asyncio.sleep(0)
        frames = largest // PAGE
        assert frames < BOUND, f"the log grew to {frames} frames"
        assert wal.stat().st_size <= BOUND * PAGE
        row = await db.fetch_one(WAL_FRAMES)
        assert row is not None and row[1] < BOUND
    finally:
        await db.close()
