import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test has a timeout (pyproject sets 120 s); e2e tests get more room.
    for item in items:
        if "e2e" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.e2e)
