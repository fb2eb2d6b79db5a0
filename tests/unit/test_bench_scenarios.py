"""What each benchmark scenario sends to microshop and to the chapter's system."""

from collections import Counter

import orjson
import pytest

from microshop.bench.catalog_names import search_terms
from microshop.bench.scenarios import (
    Flavour,
    Shop,
    UnsupportedScenario,
    build_request,
    check_scenario,
    kinds_of,
    outcome,
)

MICROSHOP = Shop("http://127.0.0.1:8080", Flavour.MICROSHOP, ("token-a", "token-b"), 7)
SEED = Shop("http://127.0.0.1:8080", Flavour.SEED)


def test_browse_lists_the_products_on_either_system() -> None:
    for shop in (MICROSHOP, SEED):
        request = build_request(shop, "browse", 0)
        assert (request.method, request.url, request.expect_status) == (
            "GET",
            "http://127.0.0.1:8080/api/products",
            200,
        )


def test_microshop_orders_rotate_through_the_users_tokens_with_a_fresh_idempotency_key() -> None:
    first, second, third = (build_request(MICROSHOP, "order", n) for n in range(3))
    assert [r.headers["Authorization"] for r in (first, second, third)] == [
        "Bearer token-a",
        "Bearer token-b",
        "Bearer token-a",
    ]
    assert first.headers["Idempotency-Key"] != third.headers["Idempotency-Key"]
    assert orjson.loads(first.body or b"") == {"product_id": 7, "quantity": 1}
    assert (first.method, first.expect_status) == ("POST", 201)


def test_the_chapters_system_gets_its_own_order_body_and_no_token() -> None:
    request = build_request(SEED, "order", 5)
    assert orjson.loads(request.body or b"") == {"user_id": 1, "product_id": 1, "quantity": 2}
    assert "Authorization" not in request.headers


def test_checkout_waits_for_the_saga_and_counts_only_approved_orders() -> None:
    request = build_request(MICROSHOP, "checkout", 0)
    assert request.headers["Prefer"] == "wait=10"
    assert outcome(request, 201, b'{"status": "approved"}') is None
    assert outcome(request, 201, b'{"status": "pending"}') == "201 pending"
    assert outcome(request, 201, b"not json") == "201 unreadable body"


def test_a_wrong_status_is_reported_by_its_code() -> None:
    request = build_request(MICROSHOP, "order", 0)
    assert outcome(request, 201, b"{}") is None
    assert outcome(request, 503, b"{}") == "503"


def test_mixed_sends_eight_product_lists_for_every_two_orders() -> None:
    kinds = Counter(build_request(MICROSHOP, "mixed", n).kind for n in range(100))
    assert kinds == {"browse": 80, "order": 20}
    assert kinds_of("mixed") == ("browse", "order")


def test_search_takes_the_grown_catalogs_terms_in_turn() -> None:
    urls = [build_request(MICROSHOP, "search", n).url for n in range(len(search_terms()) + 1)]
    assert urls[0] == f"http://127.0.0.1:8080/api/products?q={search_terms()[0]}"
    assert len(set(urls)) == len(search_terms()) and urls[-1] == urls[0]
    assert build_request(MICROSHOP, "search", 0).expect_status == 200


def test_checkout_and_search_run_on_microshop_only() -> None:
    for scenario in ("checkout", "search"):
        check_scenario(scenario, Flavour.MICROSHOP)
        with pytest.raises(UnsupportedScenario):
            check_scenario(scenario, Flavour.SEED)
    with pytest.raises(UnsupportedScenario):
        check_scenario("shopping-spree", Flavour.MICROSHOP)
