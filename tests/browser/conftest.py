"""Browser tests: Playwright driving Debian's Chromium through the gateway of a whole
running system (`microshop up`, one per test module), as a shopper would.

No browser can be downloaded here, so Playwright launches the distribution's
Chromium (`apt-get install chromium`; `make test` installs it when it is missing).
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import APIRequestContext, Browser, Page, Playwright, sync_playwright

from tests.browser.storefront import admin_api
from tests.e2e.system import System, running_system

CHROMIUM = Path(os.environ.get("MICROSHOP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a busy machine, far below the test's own timeout.
WAIT_MS = 15_000
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1100, "height": 820}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(tmp_path_factory.mktemp("browser") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # Module scope: Playwright's synchronous API runs its own event loop, which must
    # be gone before any asyncio test of another module starts.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make test` installs it "
            "(apt-get install chromium), or set MICROSHOP_CHROMIUM"
        )
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def admin(playwright: Playwright, system: System) -> Iterator[APIRequestContext]:
    """The API as the admin, for setting the shop up (products) and checking it."""
    api = admin_api(playwright, system.url)
    yield api
    api.dispose()


def _page(browser: Browser, system: System, **options: object) -> Iterator[Page]:
    context = browser.new_context(base_url=system.url, **options)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser: Browser, system: System) -> Iterator[Page]:
    """A shopper's page at a phone's width (360 px), with its own cookies."""
    yield from _page(browser, system, viewport=PHONE, has_touch=True)


@pytest.fixture
def desktop(browser: Browser, system: System) -> Iterator[Page]:
    yield from _page(browser, system, viewport=DESKTOP)


@pytest.fixture
def no_script(browser: Browser, system: System) -> Iterator[Page]:
    """A shopper whose browser runs no JavaScript."""
    yield from _page(browser, system, viewport=PHONE, java_script_enabled=False)
