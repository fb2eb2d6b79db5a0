"""What each benchmark scenario sends, and what counts as success.

    browse    GET /api/products; 200 counts
    search    GET /api/products?q=<a word prefix of the grown catalog>; 200 counts
    order     POST /api/orders with a real token from a pool of users; 201 counts
    checkout  POST /api/orders with `Prefer: wait=N`; counts when the saga answered
              `approved`, so its latency is the time to a completed saga
    mixed     8 browse for every 2 orders, interleaved

The same scenario runs against microshop and against the chapter's system (the seed
baseline): only the order body and the headers differ (the seed has no tokens, it
takes `user_id` in the body). A RequestPattern says what every request of one kind
looks like; both load engines (aiohttp here, wrk through its Lua script) send it.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote

import orjson

from microshop.bench.catalog_names import search_terms

SCENARIOS = ("browse", "order", "checkout", "mixed", "search")
MIXED_CYCLE = ("browse", "browse", "browse", "browse", "order") * 2
DEFAULT_CHECKOUT_WAIT_S = 10.0
# Only microshop has these: a saga to wait for, a search to query.
MICROSHOP_ONLY = {
    "checkout": "the chapter's system has no saga: checkout runs on microshop",
    "search": "the chapter's system has no product search: search runs on microshop",
}


class Flavour(StrEnum):
    MICROSHOP = "microshop"
    SEED = "seed-baseline"


@dataclass(frozen=True)
class Shop:
    """What a run needs to know about the system under test."""

    url: str
    flavour: Flavour
    tokens: tuple[str, ...] = ()
    product_id: int = 1
    # The chapter's body: user 1 orders two of product 1.
    seed_order: Mapping[str, int] = field(
        default_factory=lambda: {"user_id": 1, "product_id": 1, "quantity": 2}
    )
    checkout_wait_s: float = DEFAULT_CHECKOUT_WAIT_S


@dataclass(frozen=True)
class RequestPattern:
    """Every request of one kind: the same method, body and headers; the path, the
    bearer token and the Idempotency-Key change from one request to the next."""

    kind: str
    method: str
    paths: tuple[str, ...]  # taken in turn
    body: bytes | None
    headers: Mapping[str, str]
    tokens: tuple[str, ...] = ()  # taken in turn, as `Authorization: Bearer ...`
    fresh_idempotency_key: bool = False
    expect_status: int = 200
    # checkout: the order in the answer must have reached this status.
    expect_order_status: str | None = None


@dataclass(frozen=True)
class Request:
    kind: str
    method: str
    url: str
    body: bytes | None
    headers: Mapping[str, str]
    expect_status: int
    expect_order_status: str | None = None


class UnsupportedScenario(ValueError):
    pass


def check_scenario(name: str, flavour: Flavour) -> None:
    if name not in SCENARIOS:
        raise UnsupportedScenario(f"unknown scenario {name!r} (one of {', '.join(SCENARIOS)})")
    if flavour is Flavour.SEED and name in MICROSHOP_ONLY:
        raise UnsupportedScenario(MICROSHOP_ONLY[name])


def kinds_of(scenario: str) -> tuple[str, ...]:
    """The request kinds a scenario reports on, one table row each."""
    return tuple(dict.fromkeys(MIXED_CYCLE)) if scenario == "mixed" else (scenario,)


_JSON = {"Content-Type": "application/json"}


def search_paths() -> tuple[str, ...]:
    return tuple(f"/api/products?q={quote(term)}" for term in search_terms())


def pattern_of(shop: Shop, kind: str) -> RequestPattern:
    """What every request of `kind` (not `mixed`: that is several kinds) looks like."""
    if kind == "browse":
        return RequestPattern(kind, "GET", ("/api/products",), None, {})
    if kind == "search":
        return RequestPattern(kind, "GET", search_paths(), None, {})
    if shop.flavour is Flavour.SEED:
        body = orjson.dumps(dict(shop.seed_order))
        return RequestPattern(kind, "POST", ("/api/orders",), body, _JSON, expect_status=201)
    body = orjson.dumps({"product_id": shop.product_id, "quantity": 1})
    headers = dict(_JSON)
    if kind == "checkout":
        headers["Prefer"] = f"wait={shop.checkout_wait_s:g}"
    return RequestPattern(
        kind,
        "POST",
        ("/api/orders",),
        body,
        headers,
        shop.tokens,
        # A real client retries safely; the key also exercises the unique constraint.
        fresh_idempotency_key=True,
        expect_status=201,
        expect_order_status="approved" if kind == "checkout" else None,
    )


def build_request(shop: Shop, scenario: str, sequence: int) -> Request:
    """The `sequence`-th request of a run: paths, tokens and mixed kinds rotate by it."""
    kind = MIXED_CYCLE[sequence % len(MIXED_CYCLE)] if scenario == "mixed" else scenario
    pattern = pattern_of(shop, kind)
    headers = dict(pattern.headers)
    if pattern.tokens:
        headers["Authorization"] = f"Bearer {pattern.tokens[sequence % len(pattern.tokens)]}"
    if pattern.fresh_idempotency_key:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return Request(
        kind,
        pattern.method,
        shop.url + pattern.paths[sequence % len(pattern.paths)],
        pattern.body,
        headers,
        pattern.expect_status,
        pattern.expect_order_status,
    )


def outcome(request: Request, status: int, body: bytes) -> str | None:
    """None when the answer counts, else the error label it is reported under."""
    if status != request.expect_status:
        return str(status)
    if request.expect_order_status is None:
        return None
    try:
        order_status = orjson.loads(body).get("status")
    except (orjson.JSONDecodeError, AttributeError):
        return f"{status} unreadable body"
    if order_status == request.expect_order_status:
        return None
    return f"{status} {order_status}"
