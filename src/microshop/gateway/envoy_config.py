"""Renders the whole Envoy bootstrap (v3 API, as a JSON-able dict) from the routing table.

    config = render_envoy_config(Gateway(port=8080, admin_port=8100,
                                         upstreams={"catalog": [Endpoint("127.0.0.1", 8102)]}))

Nothing here is hand-edited YAML: `microshop gateway config` prints this dict.
"""

from dataclasses import dataclass, field
from pathlib import Path

from microshop.gateway import swagger_ui
from microshop.gateway.clusters import Endpoint, cluster
from microshop.gateway.docs_page import docs_page
from microshop.gateway.edge_auth import jwt_filter
from microshop.gateway.edge_cache import cache_filter, error_filter, unavailable_as_json, uncached
from microshop.gateway.envoy_types import HCM, READ_METHODS, ROUTER, address
from microshop.gateway.headers import JsonObject, header, security_headers_filter
from microshop.gateway.home_page import home_page
from microshop.gateway.local_replies import local_reply_config
from microshop.gateway.metrics_listener import admin_cluster, metrics_listener
from microshop.gateway.ratelimit import RateLimit, rate_limit_filter
from microshop.gateway.routes import (
    ROUTES,
    STOREFRONT,
    STOREFRONT_PREFIXES,
    Route,
    cacheable_paths,
    health_urls,
    openapi_urls,
    service_paths,
)

BUFFER = "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer"
CONNECTION_LIMIT = "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"

ROUTE_TIMEOUT = "15s"
# Swagger UI's script (1.5 MB) is a direct response too.
MAX_DIRECT_RESPONSE_BYTES = 4 * 1024 * 1024
MAX_DOWNSTREAM_CONNECTIONS = 10_000
# A request that failed on a connection the service closed or reset is sent again:
# any request when nothing reached the service, and a read even when it had (a GET
# or HEAD changes nothing, so the service seeing it twice does no harm).
RETRY_ANY_METHOD = "connect-failure,reset-before-request"
# A 503 is an instance saying "not now" before it did anything (a peer it needs is
# unreachable from where it runs, its breaker for that peer is open): another
# instance may well answer. A read goes there once, and so does a write that
# carries an Idempotency-Key, since the service answers a repeat of one with its
# first outcome; a keyless write never, nor anything after another 5xx.
RETRY_REPEATABLE = RETRY_ANY_METHOD + ",reset,retriable-status-codes"
RETRIABLE_STATUS_CODES = [503]
KEYED = {"name": "idempotency-key", "present_match": True}
# The retry goes to another instance. Without it, least-request keeps picking an
# instance that has just died (it fails fast, so it never has requests in flight)
# for its retry as well, until the health check takes it out. Least-request picks
# the less busy of two random samples and keeps the first on a tie, so with two
# idle instances each pick lands on the one that just failed half the time: five
# picks left one retry in 32 on it (seen in CI), twenty leave one in a million.
RETRY_ELSEWHERE = {
    "retry_host_predicate": [
        {
            "name": "envoy.retry_host_predicates.previous_hosts",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
            },
        }
    ],
    "host_selection_retry_max_attempts": 20,
}


@dataclass(frozen=True)
class Gateway:
    port: int
    admin_port: int
    # Every replica of each service; a service with no endpoint gets no routes.
    upstreams: dict[str, list[Endpoint]]
    rate_limit: RateLimit | None = None
    # The services' own limit (MICROSHOP_MAX_BODY_BYTES), also enforced at the edge.
    max_body_bytes: int = 1024 * 1024
    host: str = "127.0.0.1"
    routes: tuple[Route, ...] = field(default=ROUTES)
    # Validate bearer tokens at the edge against the users service's JWKS (off in
    # open mode, where the services ignore tokens anyway).
    edge_auth: bool = True
    # Where Envoy reads each cluster's endpoints (`<dir>/<service>.json`, rewritten as
    # instances come and go: file-based EDS); None: the endpoints above, fixed.
    eds_dir: Path | None = None
    # Where Envoy reads Swagger UI's files; None: /api/docs loads them from the CDN.
    swagger_ui_dir: Path | None = field(default_factory=swagger_ui.installed_assets_dir)
    # A listener on `host` that answers only GET /stats/prometheus from the admin
    # interface (which stays on loopback: it can also stop Envoy), for a Prometheus
    # in another container; None: no such listener.
    metrics_port: int | None = None


def render_envoy_config(gateway: Gateway) -> JsonObject:
    return {
        # Discovery (the endpoint files) needs the proxy to name itself.
        "node": {"id": "microshop-gateway", "cluster": "microshop"},
        "admin": {"address": address("127.0.0.1", gateway.admin_port)},
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": CONNECTION_LIMIT,
                        "max_active_downstream_connections": MAX_DOWNSTREAM_CONNECTIONS,
                    },
                }
            ]
        },
        "static_resources": {
            "listeners": [_listener(gateway), *metrics_listener(gateway)],
            "clusters": [
                cluster(service, endpoints, gateway.eds_dir)
                for service, endpoints in gateway.upstreams.items()
                if endpoints
            ]
            + admin_cluster(gateway),
        },
    }


def _listener(gateway: Gateway) -> JsonObject:
    filters = [security_headers_filter()]
    if gateway.rate_limit:
        filters.append(rate_limit_filter(gateway.rate_limit))
    if gateway.edge_auth and "users" in gateway.upstreams:
        filters.append(jwt_filter())
    # A service refusing an oversized body closes the connection mid-upload, and
    # Envoy may then see a reset instead of the 413: the edge refuses it first.
    filters.append(
        {
            "name": "envoy.filters.http.buffer",
            "typed_config": {"@type": BUFFER, "max_request_bytes": gateway.max_body_bytes},
        }
    )
    filters.append(error_filter())
    filters.append(cache_filter())
    filters.append({"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}})
    manager = {
        "@type": HCM,
        "stat_prefix": "ingress",
        "codec_type": "AUTO",
        "use_remote_address": True,
        "generate_request_id": True,
        "preserve_external_request_id": True,
        "always_set_request_id_in_response": True,
        "normalize_path": True,
        "merge_slashes": True,
        "route_config": _route_config(gateway),
        "local_reply_config": local_reply_config(
            retry_after=gateway.rate_limit.retry_after if gateway.rate_limit else 1,
            max_body_bytes=gateway.max_body_bytes,
        ),
        "http_filters": filters,
    }
    return {
        "name": "gateway",
        "address": address(gateway.host, gateway.port),
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": manager,
                    }
                ]
            }
        ],
    }


def _route_config(gateway: Gateway) -> JsonObject:
    return {
        "name": "microshop",
        "max_direct_response_body_size_bytes": MAX_DIRECT_RESPONSE_BYTES,
        "virtual_hosts": [
            {
                "name": "microshop",
                "domains": ["*"],
                # The client cannot choose its own X-Real-IP: Envoy overwrites it.
                "request_headers_to_add": [
                    header("x-real-ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%")
                ],
                "routes": _routes(gateway),
            }
        ],
    }


def _routes(gateway: Gateway) -> list[JsonObject]:
    running = {service for service, endpoints in gateway.upstreams.items() if endpoints}
    routes = [*_pages(gateway, running), *_swagger_ui_files(gateway.swagger_ui_dir)]
    for routes_entry in routes:
        routes_entry["typed_per_filter_config"] = uncached()
    # The cacheable pages before anything else: reads only, forwarded as they came.
    for page in cacheable_paths(gateway.routes):
        if page.service in running:
            reads = {"path": page.public_path, "headers": [READ_METHODS]}
            routes.append(_forward(page.service, reads, None, RETRY_REPEATABLE, cached=True))
    # Exact paths first: `/api/users/health` must not fall into the `/api/users` prefix.
    for path in service_paths(gateway.routes):
        if path.service in running:
            routes += _forwards(path.service, {"path": path.public_path}, path.upstream_path)
    for route in gateway.routes:
        if route.service in running:
            match = {"path_separated_prefix": route.public_prefix}
            routes += _forwards(route.service, match, route.upstream_prefix)
    if STOREFRONT in running:
        routes += _storefront()
    return routes


def _storefront() -> list[JsonObject]:
    """`/` and the storefront's pages go to the web service, paths unchanged."""
    matches = [{"path": "/"}, *({"path_separated_prefix": p} for p in STOREFRONT_PREFIXES)]
    return [route for match in matches for route in _forwards(STOREFRONT, match, None)]


def _pages(gateway: Gateway, running: set[str]) -> list[JsonObject]:
    health = {s: url for s, url in health_urls(gateway.routes).items() if s in running}
    documents = {s: url for s, url in openapi_urls(gateway.routes).items() if s in running}
    assets_url = swagger_ui.ASSETS_PATH if gateway.swagger_ui_dir else swagger_ui.CDN_URL
    html = "text/html; charset=utf-8"
    home = {"inline_string": home_page(health)}
    pages = [
        # What runs here, linked from the storefront's footer; also `/` without one.
        _direct("/api", html, home),
        _direct("/health", "application/json", {"inline_string": '{"status":"ok"}'}),
        _direct("/api/docs", html, {"inline_string": docs_page(documents, assets_url)}),
    ]
    if STOREFRONT not in running:
        pages.insert(0, _direct("/", html, home))
    return pages


def _swagger_ui_files(folder: Path | None) -> list[JsonObject]:
    if folder is None:
        return []
    return [
        _direct(f"{swagger_ui.ASSETS_PATH}/{name}", content_type, {"filename": str(folder / name)})
        for name, content_type in swagger_ui.ASSETS.items()
    ]


def _direct(path: str, content_type: str, body: JsonObject) -> JsonObject:
    """body: an Envoy DataSource, the text itself or a file Envoy reads at start."""
    return {
        "name": path,
        "match": {"path": path},
        "direct_response": {"status": 200, "body": body},
        "response_headers_to_add": [header("content-type", content_type)],
    }


def _forwards(service: str, match: JsonObject, rewrite: str | None) -> list[JsonObject]:
    """The same forwarding three times: reads and keyed writes first, with the
    wider retry policy."""
    reads = {**match, "headers": [READ_METHODS]}
    keyed = {**match, "headers": [KEYED]}
    return [
        _forward(service, reads, rewrite, RETRY_REPEATABLE),
        _forward(service, keyed, rewrite, RETRY_REPEATABLE),
        _forward(service, match, rewrite, RETRY_ANY_METHOD),
    ]


def _forward(
    service: str, match: JsonObject, rewrite: str | None, retry_on: str, cached: bool = False
) -> JsonObject:
    route: JsonObject = {
        "cluster": service,
        "timeout": ROUTE_TIMEOUT,
        "retry_policy": {
            "retry_on": retry_on,
            "retriable_status_codes": RETRIABLE_STATUS_CODES,
            "num_retries": 1,
            **RETRY_ELSEWHERE,
        },
    }
    if rewrite is not None:
        route["prefix_rewrite"] = rewrite
    forward = {
        # The route's name is the service's: local replies say which one is unavailable.
        "name": service,
        "match": match,
        "route": route,
    }
    forward["typed_per_filter_config"] = unavailable_as_json(service) if cached else uncached()
    return forward
