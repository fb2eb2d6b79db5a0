"""The bearer token check at the edge (Envoy's jwt_authn filter).

A request with a bearer token that is not a valid, unexpired token signed by the
users service is refused here (401, local_replies.py) before it reaches any
service; one without a token passes, and each service decides whether it needs
one. The services still verify every token themselves (defence in depth).
"""

from microshop.gateway.headers import JsonObject

JWT_AUTHN = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
# The users service's token claims (microshop.chassis.auth ISSUER / AUDIENCE).
ISSUER = AUDIENCE = "microshop"
JWT_CACHE_SIZE = 10_000


def jwt_filter() -> JsonObject:
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
