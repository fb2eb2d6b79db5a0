"""Each service as an Envoy cluster: its instances (fixed, by DNS name, or from a
file the supervisor rewrites as the registry changes: file-based EDS), balancing,
health checks and outlier detection."""

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from microshop.gateway.envoy_types import (
    ASSIGNMENT,
    CONNECT_TIMEOUT,
    HTTP_PROTOCOL_OPTIONS,
    address,
)
from microshop.gateway.headers import JsonObject

HEALTH_CHECK_INTERVAL = "2s"
# uvicorn closes idle keep-alive connections after 5 s; Envoy must drop them first,
# or it may reuse one the service is closing and answer a spurious 503.
UPSTREAM_IDLE_TIMEOUT = "4s"


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def load_assignment(service: str, endpoints: list[Endpoint]) -> JsonObject:
    return {
        "cluster_name": service,
        "endpoints": [
            {
                "lb_endpoints": [
                    {"endpoint": {"address": address(e.host, e.port)}} for e in endpoints
                ]
            }
        ],
    }


def endpoints_file(service: str, endpoints: list[Endpoint], version: str) -> JsonObject:
    """What `<eds_dir>/<service>.json` holds: a discovery response, as Envoy reads it."""
    return {
        "version_info": version,
        "resources": [{"@type": ASSIGNMENT, **load_assignment(service, endpoints)}],
    }


def cluster(service: str, endpoints: list[Endpoint], eds_dir: Path | None) -> JsonObject:
    cluster: JsonObject = {
        "name": service,
        "connect_timeout": CONNECT_TIMEOUT,
        "lb_policy": "LEAST_REQUEST",
        # Envoy holds back a host's health change (a failed check, an outlier
        # ejection) for up to a second by default, to merge it with others; meanwhile
        # a dead instance, which never has requests in flight, is least-request's
        # favourite. Measured: ~80 connect failures and 30 lost orders in that second.
        "common_lb_config": {"update_merge_window": "0s"},
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
                # Readiness: a draining instance says 503 here and leaves the rotation.
                "http_health_check": {"path": "/health/ready"},
            }
        ],
        # An instance that keeps failing is taken out of the rotation for a while, but
        # never all of a service's instances at once.
        "outlier_detection": {
            "consecutive_5xx": 5,
            "consecutive_gateway_failure": 3,
            "interval": "2s",
            "base_ejection_time": "10s",
            "max_ejection_percent": 50,
        },
    }
    if eds_dir is not None:
        source = {
            "path_config_source": {
                "path": str(eds_dir / f"{service}.json"),
                "watched_directory": {"path": str(eds_dir)},
            },
            "resource_api_version": "V3",
        }
        cluster.update(type="EDS", eds_cluster_config={"eds_config": source})
        return cluster
    # Names (Compose services, Kubernetes Services) are resolved and re-resolved by
    # Envoy; loopback addresses from `microshop up` need no DNS at all.
    static = all(_is_ip(e.host) for e in endpoints)
    cluster.update(
        type="STATIC" if static else "STRICT_DNS",
        dns_lookup_family="V4_ONLY",
        load_assignment=load_assignment(service, endpoints),
    )
    return cluster
