"""What each benchmark scenario sends, and what counts as success.

    browse    GET /api/products; 200 counts
    order     POST /api/orders with a real token from a pool of users; 201 counts
    checkout  POST /api/orders with `Prefer: wait=N`; counts when the saga answered
              `approved`, so its latency is the time to a completed saga
    mixed     8 browse for every 2 orders, interleaved

The same scenario runs against microshop and against the chapter's system (the seed
baseline): only the order body and the headers differ (the seed has no tokens, it
takes `user_id` in the body).
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import orjson

SCENARIOS = ("browse", "order", "checkout", "mixed")
MIXED_CYCLE = ("browse", "browse", "browse", "browse", "order") * 2
DEFAULT_CHECKOUT_WAIT_S = 10.0


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
class Request:
    kind: str
    method: str
    url: str
    body: bytes | None
    headers: Mapping[str, str]
    expect_status: int
    # checkout: the order in the answer must have reached this status.
    expect_order_status: str | None = None


class UnsupportedScenario(ValueError):
    pass


def check_scenario(name: str, flavour: Flavour) -> None:
    if name not in SCENARIOS:
        raise UnsupportedScenario(f"unknown scenario {name!r} (one of {', '.join(SCENARIOS)})")
    if name == "checkout" and flavour is Flavour.SEED:
        raise UnsupportedScenario("the chapter's system has no saga: checkout runs on microshop")


def kinds_of(scenario: str) -> tuple[str, ...]:
    """The request kinds a scenario reports on, one table row each."""
    return tuple(dict.fromkeys(MIXED_CYCLE)) if scenario == "mixed" else (scenario,)


def build_request(shop: Shop, scenario: str, sequence: int) -> Request:
    """The `sequence`-th request of a run: tokens and mixed kinds rotate by it."""
    kind = MIXED_CYCLE[sequence % len(MIXED_CYCLE)] if scenario == "mixed" else scenario
    if kind == "browse":
        return Request(kind, "GET", f"{shop.url}/api/products", None, {}, 200)
    if shop.flavour is Flavour.SEED:
        body = orjson.dumps(dict(shop.seed_order))
        return Request(kind, "POST", f"{shop.url}/api/orders", body, _JSON, 201)
    headers = {
        **_JSON,
        "Authorization": f"Bearer {shop.tokens[sequence % len(shop.tokens)]}",
        # A real client retries safely; the key also exercises the unique constraint.
        "Idempotency-Key": uuid.uuid4().hex,
    }
    body = orjson.dumps({"product_id": shop.product_id, "quantity": 1})
    if kind == "checkout":
        headers["Prefer"] = f"wait={shop.checkout_wait_s:g}"
        return Request(kind, "POST", f"{shop.url}/api/orders", body, headers, 201, "approved")
    return Request(kind, "POST", f"{shop.url}/api/orders", body, headers, 201)


_JSON = {"Content-Type": "application/json"}


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
