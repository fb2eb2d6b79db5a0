from pathlib import Path
from typing import Any

import pytest

from microshop.gateway.envoy_config import Endpoint, Gateway, render_envoy_config
from microshop.gateway.ratelimit import InvalidRateLimit, RateLimit, parse_rate_limit
from microshop.gateway.routes import ROUTES, openapi_urls

UPSTREAMS = {
    "users": [Endpoint("127.0.0.1", 8101)],
    "catalog": [Endpoint("127.0.0.1", 8102)],
    "orders": [Endpoint("127.0.0.1", 8103)],
}


def render(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "port": 8080,
        "admin_port": 8100,
        "upstreams": UPSTREAMS,
        "rate_limit": RateLimit(10, 1, 20),
    }
    return render_envoy_config(Gateway(**{**settings, **overrides}))


def connection_manager(config: dict[str, Any]) -> dict[str, Any]:
    listener = config["static_resources"]["listeners"][0]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]  # type: ignore[no-any-return]


def routes(config: dict[str, Any]) -> list[dict[str, Any]]:
    return connection_manager(config)["route_config"]["virtual_hosts"][0]["routes"]  # type: ignore[no-any-return]


def route_for(config: dict[str, Any], **match: Any) -> dict[str, Any]:
    return next(r for r in routes(config) if r["match"] == match)


def mappers(config: dict[str, Any]) -> list[dict[str, Any]]:
    return connection_manager(config)["local_reply_config"]["mappers"]  # type: ignore[no-any-return]


def status_mappers(config: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The local reply mapper of each status that is matched by its status alone."""
    comparisons = [
        (m["filter"]["status_code_filter"]["comparison"], m)
        for m in mappers(config)
        if "status_code_filter" in m["filter"]
    ]
    return {c["value"]["default_value"]: m for c, m in comparisons if c["op"] == "EQ"}


def http_filter(config: dict[str, Any], name: str) -> dict[str, Any] | None:
    filters = connection_manager(config)["http_filters"]
    return next((f["typed_config"] for f in filters if f["name"] == name), None)


@pytest.mark.parametrize(
    ("public", "service", "upstream"),
    [
        ("/api/users", "users", "/users"),
        ("/api/auth", "users", "/auth"),
        ("/api/products", "catalog", "/products"),
        ("/api/orders", "orders", "/orders"),
    ],
)
def test_each_public_prefix_goes_to_its_service_with_the_prefix_rewritten(
    public: str, service: str, upstream: str
) -> None:
    route = route_for(render(), path_separated_prefix=public)["route"]
    assert route["cluster"] == service
    assert route["prefix_rewrite"] == upstream
    assert route["timeout"] == "15s"


@pytest.mark.parametrize(
    ("public", "service", "upstream"),
    [
        ("/api/users/health", "users", "/health"),
        ("/api/products/health", "catalog", "/health"),
        ("/api/orders/health/ready", "orders", "/health/ready"),
        ("/api/products/openapi.json", "catalog", "/openapi.json"),
    ],
)
def test_a_services_health_and_openapi_paths_reach_its_own_root_paths(
    public: str, service: str, upstream: str
) -> None:
    route = route_for(render(), path=public)["route"]
    assert (route["cluster"], route["prefix_rewrite"]) == (service, upstream)


def test_exact_service_paths_come_before_the_prefix_that_would_swallow_them() -> None:
    matches = [r["match"] for r in routes(render())]
    assert matches.index({"path": "/api/users/health"}) < matches.index(
        {"path_separated_prefix": "/api/users"}
    )


def test_the_gateway_answers_its_own_health_as_json() -> None:
    route = route_for(render(), path="/health")
    assert route["direct_response"] == {"status": 200, "body": {"inline_string": '{"status":"ok"}'}}
    assert route["response_headers_to_add"][0]["header"]["value"] == "application/json"


def test_the_docs_page_offers_every_running_services_openapi_document() -> None:
    page = route_for(render(), path="/api/docs")["direct_response"]["body"]["inline_string"]
    assert "swagger-ui-bundle.js" in page
    for service in UPSTREAMS:
        assert f'<option value="{openapi_urls()[service]}">{service}</option>' in page
    assert "/api/notifications/openapi.json" not in page


def test_a_service_without_replicas_gets_neither_routes_nor_a_cluster() -> None:
    config = render(upstreams={"catalog": [Endpoint("127.0.0.1", 8102)]})
    clusters = [c["name"] for c in config["static_resources"]["clusters"]]
    assert clusters == ["catalog"]
    assert all(r.get("route", {}).get("cluster", "catalog") == "catalog" for r in routes(config))


def test_every_replica_is_an_endpoint_of_its_health_checked_cluster() -> None:
    replicas = [Endpoint("127.0.0.1", 8102), Endpoint("127.0.0.1", 8202)]
    cluster = render(upstreams={"catalog": replicas})["static_resources"]["clusters"][0]
    endpoints = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    ports = [e["endpoint"]["address"]["socket_address"]["port_value"] for e in endpoints]
    assert ports == [8102, 8202]
    assert cluster["connect_timeout"] == "1s"
    check = cluster["health_checks"][0]
    assert (check["http_health_check"]["path"], check["interval"]) == ("/health/ready", "2s")
    assert cluster["outlier_detection"]["max_ejection_percent"] == 50
    # A failed check or an ejection takes the instance out at once, not a second later.
    assert cluster["common_lb_config"]["update_merge_window"] == "0s"


def test_the_admin_interface_listens_on_loopback_only() -> None:
    address = render()["admin"]["address"]["socket_address"]
    assert address == {"address": "127.0.0.1", "port_value": 8100}


def test_request_ids_are_generated_or_kept_and_the_client_address_is_forwarded() -> None:
    manager = connection_manager(render())
    assert manager["generate_request_id"] and manager["preserve_external_request_id"]
    assert manager["use_remote_address"] is True
    virtual_host = manager["route_config"]["virtual_hosts"][0]
    real_ip = virtual_host["request_headers_to_add"][0]
    assert real_ip["header"] == {
        "key": "x-real-ip",
        "value": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
    }
    assert real_ip["append_action"] == "OVERWRITE_IF_EXISTS_OR_ADD"


def test_the_rate_limit_gives_each_client_address_its_own_bucket() -> None:
    limit = http_filter(render(), "envoy.filters.http.local_ratelimit")
    assert limit is not None
    assert limit["rate_limits"] == [{"actions": [{"remote_address": {}}]}]
    assert limit["descriptors"][0]["token_bucket"] == {
        "max_tokens": 20,
        "tokens_per_fill": 10,
        "fill_interval": "1s",
    }
    assert limit["always_consume_default_token_bucket"] is False


def test_no_rate_limit_filter_is_rendered_when_the_limit_is_off() -> None:
    assert http_filter(render(rate_limit=None), "envoy.filters.http.local_ratelimit") is None


def test_envoys_own_error_replies_are_json() -> None:
    bodies = {
        status: m["body_format_override"]["json_format"]
        for status, m in status_mappers(render()).items()
    }
    assert bodies[429] == {"error": "Too many requests", "retry_after": 1}
    assert bodies[404] == {"error": "Not found"}
    assert bodies[503]["error"] == "%ROUTE_NAME% unavailable"
    assert bodies[413] == {"error": "Request body too large", "max_bytes": 1024 * 1024}


def test_every_error_reply_of_envoys_own_says_what_was_wrong() -> None:
    # Envoy's own text is empty for a malformed request: it must not be the message.
    for m in mappers(render()):
        error = m["body_format_override"]["json_format"]["error"]
        assert error and error != "%LOCAL_REPLY_BODY%"
    bodies = {
        status: m["body_format_override"]["json_format"]
        for status, m in status_mappers(render()).items()
    }
    assert bodies[400] == {"error": "Bad request: the path or a header is malformed"}


def test_a_token_for_another_audience_is_answered_401_like_every_invalid_token() -> None:
    first = mappers(render())[0]
    status, from_token_check = first["filter"]["and_filter"]["filters"]
    assert status["status_code_filter"]["comparison"]["value"]["default_value"] == 403
    expression = from_token_check["extension_filter"]["typed_config"]["expression"]
    assert "jwt_authn" in expression, "only the token check's 403 becomes a 401"
    assert first["status_code"] == 401
    assert (
        first["body_format_override"]["json_format"]
        == status_mappers(render())[401]["body_format_override"]["json_format"]
    )


def security_headers_of(options: list[dict[str, Any]]) -> dict[str, str]:
    return {o["header"]["key"]: o["header"]["value"] for o in options}


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def test_the_security_headers_are_on_every_answer_and_on_every_local_reply() -> None:
    config = render()
    manager = connection_manager(config)
    first = manager["http_filters"][0]
    assert first["name"] == "envoy.filters.http.header_mutation", "first: it sees every answer"
    added = [m["append"] for m in first["typed_config"]["mutations"]["response_mutations"]]
    assert security_headers_of(added) == SECURITY_HEADERS
    for m in mappers(config):
        assert SECURITY_HEADERS.items() <= security_headers_of(m["headers_to_add"]).items()
    assert "strict-transport-security" not in security_headers_of(added), "no HSTS over http"


def test_reads_and_keyed_writes_are_retried_after_a_reset_or_503_and_others_only_when_nothing_reached_the_service() -> (
    None
):
    reads = {"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}
    keyed = {"name": "idempotency-key", "present_match": True}
    prefix = {"path_separated_prefix": "/api/products"}
    read = route_for(render(), **prefix, headers=[reads])
    keyed_write = route_for(render(), **prefix, headers=[keyed])
    other = route_for(render(), **prefix)
    for safe in (read, keyed_write):
        policy = safe["route"]["retry_policy"]
        assert policy["retry_on"].split(",") == [
            "connect-failure",
            "reset-before-request",
            "reset",
            "retriable-status-codes",
        ]
        assert policy["retriable_status_codes"] == [503]
    assert other["route"]["retry_policy"]["retry_on"].split(",") == [
        "connect-failure",
        "reset-before-request",
    ]
    assert (read["name"], read["route"]["cluster"]) == (other["name"], "catalog")
    order = routes(render())
    assert order.index(read) < order.index(keyed_write) < order.index(other)
    # Never on the instance that just failed (least-request would favour a dead one).
    for route in (read, keyed_write, other):
        predicates = route["route"]["retry_policy"]["retry_host_predicate"]
        assert [p["name"] for p in predicates] == ["envoy.retry_host_predicates.previous_hosts"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/s:20", RateLimit(10, 1, 20)),
        ("5/m", RateLimit(5, 60, 5)),
        ("100", RateLimit(100, 1, 100)),
        ("off", None),
    ],
)
def test_rate_limits_are_read_as_rate_unit_and_burst(text: str, expected: RateLimit | None) -> None:
    assert parse_rate_limit(text) == expected


@pytest.mark.parametrize("text", ["ten", "10/week", "0/s", "10/s:x"])
def test_a_malformed_rate_limit_is_refused(text: str) -> None:
    with pytest.raises(InvalidRateLimit):
        parse_rate_limit(text)


def test_every_route_of_the_table_points_at_a_slashless_prefix() -> None:
    # path_separated_prefix refuses a trailing slash; catch it before Envoy does.
    assert all(not r.public_prefix.endswith("/") for r in ROUTES)


def test_tokens_are_checked_at_the_edge_unless_the_system_is_open() -> None:
    from microshop.gateway.envoy_config import Endpoint, Gateway, render_envoy_config

    def filters(edge_auth: bool) -> list[str]:
        gateway = Gateway(
            port=8080,
            admin_port=8100,
            upstreams={"users": [Endpoint("127.0.0.1", 8101)]},
            edge_auth=edge_auth,
        )
        listener = render_envoy_config(gateway)["static_resources"]["listeners"][0]
        manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
        return [f["name"] for f in manager["http_filters"]]

    assert "envoy.filters.http.jwt_authn" in filters(edge_auth=True)
    assert "envoy.filters.http.jwt_authn" not in filters(edge_auth=False)


def test_only_the_product_list_is_answered_from_the_gateways_cache() -> None:
    config = render()
    names = [f["name"] for f in connection_manager(config)["http_filters"]]
    assert names[-2:] == ["envoy.filters.http.cache", "envoy.filters.http.router"]
    cached = [
        r
        for r in routes(config)
        if "envoy.filters.http.cache" not in r.get("typed_per_filter_config", {})
    ]
    assert [r["match"]["path"] for r in cached] == ["/api/products"]
    (listing,) = cached
    # Envoy fills its cache with the path as sent: the catalog answers it unchanged.
    assert "prefix_rewrite" not in listing["route"] and listing["route"]["cluster"] == "catalog"
    assert listing["match"]["headers"][0]["name"] == ":method"
    first_forward = next(i for i, r in enumerate(routes(config)) if "route" in r)
    assert routes(config)[first_forward] is listing


def test_with_an_endpoints_directory_each_cluster_follows_its_file(tmp_path: Path) -> None:
    from microshop.gateway.clusters import endpoints_file

    cluster = render(eds_dir=tmp_path)["static_resources"]["clusters"][0]
    assert cluster["type"] == "EDS" and "load_assignment" not in cluster
    source = cluster["eds_cluster_config"]["eds_config"]["path_config_source"]
    assert source["path"] == str(tmp_path / f"{cluster['name']}.json")
    assert source["watched_directory"] == {"path": str(tmp_path)}
    answer = endpoints_file("catalog", [Endpoint("127.0.0.1", 8102)], "7")
    assert answer["version_info"] == "7"
    (assignment,) = answer["resources"]
    assert assignment["cluster_name"] == "catalog"
