"""The pages the gateway answers itself (`/api`, `/api/docs` and Swagger UI's own
files, and `/` when no storefront runs), and the storefront's pages it forwards."""

from pathlib import Path
from typing import Any

from microshop.gateway.envoy_config import (
    MAX_DIRECT_RESPONSE_BYTES,
    Endpoint,
    Gateway,
    render_envoy_config,
)
from microshop.gateway.swagger_ui import ASSETS, CDN_URL

UPSTREAMS = {"users": [Endpoint("127.0.0.1", 8101)], "catalog": [Endpoint("127.0.0.1", 8102)]}


def direct_responses(**overrides: Any) -> dict[str, dict[str, Any]]:
    """path -> route, for every route Envoy answers itself."""
    config = render_envoy_config(
        Gateway(port=8080, admin_port=8100, upstreams=UPSTREAMS, **overrides)
    )
    listener = config["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    return {r["match"]["path"]: r for r in routes if "direct_response" in r}


def content_type(route: dict[str, Any]) -> str:
    (option,) = route["response_headers_to_add"]
    assert option["header"]["key"] == "content-type"
    return str(option["header"]["value"])


def body_text(route: dict[str, Any]) -> str:
    return str(route["direct_response"]["body"]["inline_string"])


def test_the_api_page_says_what_runs_here_and_links_to_the_docs_and_every_health_check() -> None:
    root = direct_responses()["/api"]
    assert content_type(root) == "text/html; charset=utf-8"
    page = body_text(root)
    for link in ("/api/docs", "/health", "/api/users/health", "/api/products/health"):
        assert f'href="{link}"' in page
    assert "/api/orders/health" not in page, "orders has no replica here"
    assert "README.md in the microshop repository" in page


def test_swagger_ui_is_served_from_the_installed_files_with_their_content_types() -> None:
    routes = direct_responses()
    for name, expected_type in ASSETS.items():
        route = routes[f"/api/docs/{name}"]
        file = Path(route["direct_response"]["body"]["filename"])
        assert file.is_file() and file.stat().st_size <= MAX_DIRECT_RESPONSE_BYTES
        assert content_type(route) == expected_type
    assert ASSETS["swagger-ui-bundle.js"].startswith("text/javascript")
    assert ASSETS["swagger-ui.css"].startswith("text/css")


def test_the_docs_page_loads_swagger_ui_from_the_gateway_and_nothing_from_elsewhere() -> None:
    page = body_text(direct_responses()["/api/docs"])
    assert '<script src="/api/docs/swagger-ui-bundle.js">' in page
    assert 'href="/api/docs/swagger-ui.css"' in page
    assert "https://" not in page and "http://" not in page


def test_a_gateway_without_the_files_loads_swagger_ui_from_the_cdn() -> None:
    routes = direct_responses(swagger_ui_dir=None)
    assert "/api/docs/swagger-ui-bundle.js" not in routes
    assert f'<script src="{CDN_URL}/swagger-ui-bundle.js">' in body_text(routes["/api/docs"])


def routes_with(upstreams: dict[str, list[Endpoint]]) -> list[dict[str, Any]]:
    config = render_envoy_config(Gateway(port=8080, admin_port=8100, upstreams=upstreams))
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    return manager["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]  # type: ignore[no-any-return]


def test_without_a_storefront_the_root_is_the_gateways_own_page() -> None:
    assert body_text(direct_responses()["/"]) == body_text(direct_responses()["/api"])


def test_the_storefront_owns_the_root_and_its_pages_with_their_paths_unchanged() -> None:
    web = {**UPSTREAMS, "web": [Endpoint("127.0.0.1", 8108)]}
    routes = routes_with(web)
    answered_here = {r["match"].get("path") for r in routes if "direct_response" in r}
    assert "/" not in answered_here and "/api" in answered_here, "the footer links to /api"
    forwarded = {
        r["match"].get("path") or r["match"].get("path_separated_prefix")
        for r in routes
        if r.get("route", {}).get("cluster") == "web"
    }
    assert forwarded == {"/", "/products", "/cart", "/checkout", "/orders", "/account", "/static"}
    assert all(
        "prefix_rewrite" not in r["route"]
        for r in routes
        if r.get("route", {}).get("cluster") == "web"
    )
