"""A grown catalog (`--products N`): N products imported through the catalog's bulk
route, 1,000 a request, as an operator would load them, before the runs that show
what a large catalog costs browse, search and order."""

import time
from collections.abc import Callable

import aiohttp

from microshop.bench.catalog_names import products
from microshop.bench.prepare import PreparationFailed, admin_login, call_api

IMPORT_BATCH = 1000
MAX_PRODUCTS = 1_000_000
# One batch of 1,000 rows in one transaction: generous, it is not what is measured.
IMPORT_TIMEOUT_S = 120.0

# products imported so far, products planned
ImportProgress = Callable[[int, int], None]


async def grow_catalog(
    url: str, admin_password: str | None, count: int, progress: ImportProgress | None = None
) -> float:
    """Imports `count` products (POST /api/products/import); the seconds it took."""
    if not 1 <= count <= MAX_PRODUCTS:
        raise PreparationFailed(f"products must be in [1, {MAX_PRODUCTS:,}]")
    began = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=IMPORT_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        token = await admin_login(session, url, admin_password)
        for first in range(0, count, IMPORT_BATCH):
            batch = list(products(first, min(IMPORT_BATCH, count - first)))
            reply = await call_api(
                session, "POST", f"{url}/api/products/import", batch, token, expect=201
            )
            if reply.get("created") != len(batch):
                raise PreparationFailed(f"an import of {len(batch)} products answered {reply}")
            if progress:
                progress(first + len(batch), count)
    return time.perf_counter() - began
