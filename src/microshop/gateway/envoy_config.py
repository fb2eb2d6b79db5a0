"""Renders the whole Envoy bootstrap (v3 API, as a JSON-able dict) from the routing table.

    config = render_envoy_config(Gateway(port=8080, admin_port=8100,
                                         upstreams={"catalog": [Endpoint("127.0.0.1", 8102)]}))

Nothing here is hand-edited YAML: `microshop gateway config` prints this dict.
"""

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from microshop.gateway.docs_page import docs_page
from microshop.gateway.ratelimit import RateLimit, rate_limit_filter
from microshop.gateway.routes import ROUTES, Route, openapi_urls, service_paths

JsonObject = dict[str, Any]

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
BUFFER = "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer"
CONNECTION_LIMIT = "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
JWT_AUTHN = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
# The users service's token claims (microshop.chassis.auth ISSUER / AUDIENCE).
ISSUER = AUDIENCE = "microshop"
HTTP_PROTOCOL_OPTIONS = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

CONNECT_TIMEOUT = "1s"
ROUTE_TIMEOUT = "15s"
HEALTH_CHECK_INTERVAL = "2s"
# uvicorn closes idle keep-alive connections after 5 s; Envoy must drop them first,
# or it may reuse one the service is closing and answer a spurious 503.
UPSTREAM_IDLE_TIMEOUT = "4s"
MAX_DIRECT_RESPONSE_BYTES = 64 * 1024
MAX_DOWNSTREAM_CONNECTIONS = 10_000
JWT_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int


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


def render_envoy_config(gateway: Gateway) -> JsonObject:
    return {
        "admin": {"address": _address("127.0.0.1", gateway.admin_port)},
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
            "listeners": [_listener(gateway)],
            "clusters": [
                _cluster(service, endpoints)
                for service, endpoints in gateway.upstreams.items()
                if endpoints
            ],
        },
    }


def _jwt_filter() -> JsonObject:
    """A request with a bearer token that is not a valid, unexpired token signed by
    the users service is refused here (401) before it reaches any service; one
    without a token passes, and each service decides whether it needs one. The
    services still verify every token themselves (defence in depth)."""
    provider = {
        "issuer": ISSUER,
        "audiences": [AUDIENCE],
        "forward": True,
        "from_headers": [{"name": "Authorization", "value_prefix": "Bearer "}],
        "remote_jwks": {
            "http_uri": {"uri": "http://users/auth/jwks", "cluster": "users", "timeout": "2s"},
            "cache_duration": "300s",
            "async_fetch": {},
            "retry_policy": {"num_retries": 3},
        },
        # A verified token is remembered until it expires: a customer placing many
        # orders costs one signature check here, not one per request.
        "jwt_cache_config": {"jwt_cache_size": JWT_CACHE_SIZE},
    }
    requirement = {
        "requires_any": {"requirements": [{"provider_name": "users"}, {"allow_missing": {}}]}
    }
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": JWT_AUTHN,
            "providers": {"users": provider},
            "rules": [{"match": {"prefix": "/"}, "requires": requirement}],
        },
    }


def _address(host: str, port: int) -> JsonObject:
    return {"socket_address": {"address": host, "port_value": port}}


def _header(key: str, value: str) -> JsonObject:
    return {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}


def _listener(gateway: Gateway) -> JsonObject:
    filters = [rate_limit_filter(gateway.rate_limit)] if gateway.rate_limit else []
    if gateway.edge_auth and "users" in gateway.upstreams:
        filters.append(_jwt_filter())
    # A service refusing an oversized body closes the connection mid-upload, and
    # Envoy may then see a reset instead of the 413: the edge refuses it first.
    filters.append(
        {
            "name": "envoy.filters.http.buffer",
            "typed_config": {"@type": BUFFER, "max_request_bytes": gateway.max_body_bytes},
        }
    )
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
        "local_reply_config": _local_replies(gateway),
        "http_filters": filters,
    }
    return {
        "name": "gateway",
        "address": _address(gateway.host, gateway.port),
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
                    _header("x-real-ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%")
                ],
                "routes": _routes(gateway),
            }
        ],
    }


def _routes(gateway: Gateway) -> list[JsonObject]:
    running = {service for service, endpoints in gateway.upstreams.items() if endpoints}
    docs_urls = {s: url for s, url in openapi_urls(gateway.routes).items() if s in running}
    routes = [
        _direct("/health", "application/json", '{"status":"ok"}'),
        _direct("/api/docs", "text/html; charset=utf-8", docs_page(docs_urls)),
    ]
    # Exact paths first: `/api/users/health` must not fall into the `/api/users` prefix.
    routes += [
        _forward(path.service, {"path": path.public_path}, path.upstream_path)
        for path in service_paths(gateway.routes)
        if path.service in running
    ]
    routes += [
        _forward(
            route.service, {"path_separated_prefix": route.public_prefix}, route.upstream_prefix
        )
        for route in gateway.routes
        if route.service in running
    ]
    return routes


def _direct(path: str, content_type: str, body: str) -> JsonObject:
    return {
        "name": path,
        "match": {"path": path},
        "direct_response": {"status": 200, "body": {"inline_string": body}},
        "response_headers_to_add": [_header("content-type", content_type)],
    }


def _forward(service: str, match: JsonObject, rewrite: str) -> JsonObject:
    return {
        # The route's name is the service's: local replies say which one is unavailable.
        "name": service,
        "match": match,
        "route": {
            "cluster": service,
            "prefix_rewrite": rewrite,
            "timeout": ROUTE_TIMEOUT,
            # Safe for every method: only retried when nothing reached the service.
            "retry_policy": {"retry_on": "connect-failure,reset-before-request", "num_retries": 1},
        },
    }


def _json_reply(
    status: int, body: JsonObject, headers: list[JsonObject] | None = None
) -> JsonObject:
    return {
        "filter": {
            "status_code_filter": {
                "comparison": {
                    "op": "EQ",
                    "value": {"default_value": status, "runtime_key": f"microshop.reply_{status}"},
                }
            }
        },
        "body_format_override": {"json_format": body},
        **({"headers_to_add": headers} if headers else {}),
    }


def _local_replies(gateway: Gateway) -> JsonObject:
    """Every reply Envoy makes itself is JSON, like the services' own errors.

    Only error statuses are mapped: `/health` and `/api/docs` are local replies too."""
    retry_after = gateway.rate_limit.retry_after if gateway.rate_limit else 1
    return {
        "mappers": [
            _json_reply(
                429,
                {"error": "Too many requests", "retry_after": retry_after},
                [_header("retry-after", str(retry_after))],
            ),
            _json_reply(404, {"error": "Not found"}),
            # The edge's token check (jwt_authn) says why in its own words.
            _json_reply(401, {"error": "Invalid token", "reason": "%LOCAL_REPLY_BODY%"}),
            _json_reply(
                413, {"error": "Request body too large", "max_bytes": gateway.max_body_bytes}
            ),
            _json_reply(
                503,
                {"error": "%ROUTE_NAME% unavailable", "retry_after": 1},
                [_header("retry-after", "1")],
            ),
            _json_reply(504, {"error": "%ROUTE_NAME% timed out"}),
            {
                "filter": {
                    "status_code_filter": {
                        "comparison": {
                            "op": "GE",
                            "value": {"default_value": 400, "runtime_key": "microshop.reply_error"},
                        }
                    }
                },
                "body_format_override": {"json_format": {"error": "%LOCAL_REPLY_BODY%"}},
            },
        ]
    }


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _cluster(service: str, endpoints: list[Endpoint]) -> JsonObject:
    return {
        "name": service,
        # Names (Compose services, Kubernetes Services) are resolved and re-resolved
        # by Envoy; loopback addresses from `microshop up` need no DNS at all.
        "type": "STATIC" if all(_is_ip(e.host) for e in endpoints) else "STRICT_DNS",
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": CONNECT_TIMEOUT,
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {
            "cluster_name": service,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {"endpoint": {"address": _address(e.host, e.port)}} for e in endpoints
                    ]
                }
            ],
        },
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": HTTP_PROTOCOL_OPTIONS,
                "explicit_http_config": {"http_protocol_options": {}},
                "common_http_protocol_options": {"idle_timeout": UPSTREAM_IDLE_TIMEOUT},
            }
        },
        "health_checks": [
            {
                "timeout": "1s",
                "interval": HEALTH_CHECK_INTERVAL,
                # Without this Envoy checks a cluster that has seen no traffic only every 60 s.
                "no_traffic_interval": HEALTH_CHECK_INTERVAL,
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "http_health_check": {"path": "/health"},
            }
        ],
    }
