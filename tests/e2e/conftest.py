from collections.abc import AsyncIterator

import pytest

from tests.e2e.system import System
from tests.support.http import Api


@pytest.fixture
async def api(system: System) -> AsyncIterator[Api]:
    """A client of the gateway of the module's running `system`."""
    client = Api(system.url)
    yield client
    await client.close()
