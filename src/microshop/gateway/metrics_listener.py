"""The gateway's Prometheus endpoint for a scraper in another container: a listener
that answers only GET /stats/prometheus, proxied to the admin interface, which stays
on loopback (it can also stop Envoy and change its configuration)."""

from typing import TYPE_CHECKING

from microshop.gateway.envoy_types import CONNECT_TIMEOUT, HCM, READ_METHODS, ROUTER, address
from microshop.gateway.headers import JsonObject

if TYPE_CHECKING:
    from microshop.gateway.envoy_config import Gateway


ADMIN_CLUSTER = "envoy_admin"


def metrics_listener(gateway: "Gateway") -> list[JsonObject]:
    if gateway.metrics_port is None:
        return []
    stats = {
        "name": "stats",
        "match": {"path": "/stats/prometheus", "headers": [READ_METHODS]},
        "route": {"cluster": ADMIN_CLUSTER},
    }
    manager = {
        "@type": HCM,
        "stat_prefix": "metrics",
        "route_config": {
            "name": "metrics",
            "virtual_hosts": [{"name": "metrics", "domains": ["*"], "routes": [stats]}],
        },
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}}],
    }
    chain = {"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}
    return [
        {
            "name": "metrics",
            "address": address(gateway.host, gateway.metrics_port),
            "filter_chains": [{"filters": [chain]}],
        }
    ]


def admin_cluster(gateway: "Gateway") -> list[JsonObject]:
    if gateway.metrics_port is None:
        return []
    endpoint = {"endpoint": {"address": address("127.0.0.1", gateway.admin_port)}}
    return [
        {
            "name": ADMIN_CLUSTER,
            "type": "STATIC",
            "connect_timeout": CONNECT_TIMEOUT,
            "load_assignment": {
                "cluster_name": ADMIN_CLUSTER,
                "endpoints": [{"lb_endpoints": [endpoint]}],
            },
        }
    ]
