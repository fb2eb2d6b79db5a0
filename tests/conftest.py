import os

import pytest

# Every service the tests start (in this process, as a child process, or through
# `microshop up`) signs and checks /internal calls with this key; the tests' own
# HTTP client (support/http.py) signs with it too.
TEST_SERVICE_KEY = "microshop-tests-service-key"
os.environ.setdefault("MICROSHOP_SERVICE_KEY", TEST_SERVICE_KEY)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test has a timeout (pyproject sets 120 s); e2e tests get more room. The
    # browser tests start the whole system too.
    for item in items:
        if {"e2e", "browser"} & set(item.nodeid.split("/")):
            item.add_marker(pytest.mark.e2e)
