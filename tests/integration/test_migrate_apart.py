"""`microshop serve` migrates a service's database in a forked child before serving:
the database ends at the newest revision, the serving process never imports Alembic,
and a migration that fails stops the start with a StartupError."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import microshop.services.payments as payments
from microshop.chassis.migrations import head_revision

MIGRATIONS = Path(payments.__file__).parent / "migrations"

pytestmark = pytest.mark.timeout(60)

# What serve() does before uvicorn starts, in a fresh interpreter (pytest's own has
# imported Alembic long ago), reporting whether Alembic reached this process.
SCRIPT = """
import sys
from pathlib import Path
from microshop.runtime.serve import check_database, migrate_apart
from microshop.runtime.errors import StartupError
url, migrations = sys.argv[1], Path(sys.argv[2])
check_database("payments", url)
try:
    migrate_apart("payments", url, migrations)
except StartupError as exc:
    print("StartupError:", exc)
print("alembic imported:", "alembic" in sys.modules)
"""


def run_serve_start(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite:///{db}", str(MIGRATIONS)],
        capture_output=True,
        text=True,
        timeout=50,
        check=True,
    )


def version_of(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def test_a_new_database_is_migrated_to_head_outside_the_serving_process(
    tmp_path: Path,
) -> None:
    db = tmp_path / "payments.db"
    done = run_serve_start(db)
    assert "StartupError" not in done.stdout, done.stdout + done.stderr
    assert "alembic imported: False" in done.stdout
    assert version_of(db) == head_revision(MIGRATIONS)
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"payments", "outbox", "inbox"} <= tables


def test_a_failing_migration_stops_the_start_and_says_so(tmp_path: Path) -> None:
    db = tmp_path / "payments.db"
    with sqlite3.connect(db) as conn:  # a revision this code does not know
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    done = run_serve_start(db)
    assert "StartupError: payments: migrating its database failed" in done.stdout
    assert "9999_from_the_future" in done.stderr  # the child's own error, printed
    assert version_of(db) == "9999_from_the_future"
