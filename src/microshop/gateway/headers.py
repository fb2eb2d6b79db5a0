"""Response headers in Envoy's HeaderValueOption form, and the security headers the
gateway puts on every response: the services' own, its direct responses (`/`,
`/health`, `/api/docs`) and the error replies Envoy makes itself."""

from typing import Any

JsonObject = dict[str, Any]

# No Strict-Transport-Security: the gateway speaks plain HTTP, where browsers ignore
# it; whatever terminates TLS in front of the gateway is the one to send it.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    # A browser must not guess that a JSON body is HTML or script and run it.
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
)


def header(key: str, value: str) -> JsonObject:
    return {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}


def security_headers() -> list[JsonObject]:
    return [header(key, value) for key, value in SECURITY_HEADERS]


HEADER_MUTATION = (
    "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"
)


def security_headers_filter() -> JsonObject:
    """First in the chain, so it sees every response on its way out: the routed ones,
    the direct responses and those the cache filter answers itself (the cache serves
    a stored response without the route's `response_headers_to_add`)."""
    return {
        "name": "envoy.filters.http.header_mutation",
        "typed_config": {
            "@type": HEADER_MUTATION,
            "mutations": {"response_mutations": [{"append": h} for h in security_headers()]},
        },
    }
