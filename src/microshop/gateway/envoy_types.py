"""Envoy's type URLs and the small pieces every part of the gateway's configuration
uses (the configuration is plain JSON: these are its vocabulary)."""

from microshop.gateway.headers import JsonObject

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
HTTP_PROTOCOL_OPTIONS = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
ASSIGNMENT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"

CONNECT_TIMEOUT = "1s"
READ_METHODS = {"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}


def address(host: str, port: int) -> JsonObject:
    return {"socket_address": {"address": host, "port_value": port}}
