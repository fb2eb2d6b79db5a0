"""Checks of a system that `make test-compose` (tests/compose/run.sh) runs on a
private Docker engine; collected only when that script points them at it.

MICROSHOP_COMPOSE_URL   the gateway, e.g. http://127.0.0.1:8080
MICROSHOP_COMPOSE_MODE  open (the chapter's walkthrough) or secure
MICROSHOP_COMPOSE_BROKER  nats or rabbitmq (the profile that runs)
DOCKER_HOST and COMPOSE_FILE / COMPOSE_PROJECT_NAME lead `docker compose` to it.
"""

import os
from collections.abc import AsyncIterator

import pytest

from tests.support.http import Api

if not os.environ.get("MICROSHOP_COMPOSE_URL"):
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    client = Api(os.environ["MICROSHOP_COMPOSE_URL"])
    yield client
    await client.close()
