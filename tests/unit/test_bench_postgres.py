"""`--db postgres`: a database per service, named for the run (created and dropped on the
real server: tests/integration/test_bench_postgres.py)."""

from microshop.bench.postgres import database_names, service_env


def test_each_service_gets_a_database_named_for_the_run() -> None:
    names = database_names("0a1b2c3d")
    assert names["users"] == "microshop_bench_users_0a1b2c3d"
    assert names["order_history"] == "microshop_bench_order_history_0a1b2c3d"
    assert len(names) == 7


def test_the_environment_points_each_service_at_its_database() -> None:
    env = service_env(database_names("0a1b2c3d"))
    assert set(env) == {
        f"MICROSHOP_{service}_DATABASE_URL"
        for service in (
            "USERS",
            "CATALOG",
            "ORDERS",
            "PAYMENTS",
            "SHIPPING",
            "NOTIFICATIONS",
            "ORDER_HISTORY",
        )
    }
    assert env["MICROSHOP_ORDER_HISTORY_DATABASE_URL"] == (
        "postgresql://postgres@127.0.0.1:5432/microshop_bench_order_history_0a1b2c3d"
    )
