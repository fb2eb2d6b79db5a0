"""The ops console in a real Chromium (the browser fixtures of tests/browser).

One system for the folder (`microshop up` on free ports: the trace tests, which
need no browser, use it too) and a fresh page, signed in as the administrator,
for each test."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.ops.helpers import sign_in, signed_in
from tests.e2e.system import ADMIN_EMAIL, ADMIN_PASSWORD, System, running_system
from tests.support.http import Api

# The breaker of a peer opens after this many failed calls, and tries again after
# this long (several live updates of the console): one order placed while the
# catalog is stopped opens it (three attempts).
BREAKER_FAILURES = 3
BREAKER_RESET_S = 8


@pytest.fixture(scope="package")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("ops-console") / "data"
    with running_system(
        data_dir,
        MICROSHOP_BREAKER_FAILURES=str(BREAKER_FAILURES),
        MICROSHOP_BREAKER_RESET_SECONDS=str(BREAKER_RESET_S),
    ) as running:
        yield running


@pytest.fixture
def admin_page(browser: Any, system: System) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, system, ADMIN_EMAIL, ADMIN_PASSWORD)
    signed_in(page, system)
    yield page
    context.close()


@pytest.fixture
async def api(system: System) -> AsyncIterator[Api]:
    """A client of the gateway, for the tests without a browser."""
    client = Api(system.url)
    yield client
    await client.close()
