"""The one routing table of the public API: everything the gateway does derives from it.

A service's public name is the prefix of its first route (`/api/products` for
catalog, as in the chapter), and its health checks and OpenAPI document live
under that name: `/api/products/health`, `/api/products/openapi.json`.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Route:
    """Requests under `public_prefix` go to `service` with the prefix swapped for
    `upstream_prefix` (`/api/users/1` -> `/users/1`), as the chapter's nginx did."""

    public_prefix: str
    service: str
    upstream_prefix: str


ROUTES: tuple[Route, ...] = (
    Route("/api/users", "users", "/users"),
    Route("/api/auth", "users", "/auth"),
    Route("/api/products", "catalog", "/products"),
    Route("/api/orders", "orders", "/orders"),
    Route("/api/notifications", "notifications", "/notifications"),
    Route("/api/payments", "payments", "/payments"),
    Route("/api/shipments", "shipping", "/shipments"),
    Route("/api/order-history", "order_history", "/order-history"),
    # The ops console's pages (admins only), served by the ops service.
    Route("/ops", "ops", "/ops"),
)

# The storefront's pages and files (services/web), forwarded with their paths
# unchanged: `/` exactly, and everything under each of these prefixes.
STOREFRONT = "web"
STOREFRONT_PREFIXES: tuple[str, ...] = (
    "/products",
    "/cart",
    "/checkout",
    "/orders",
    "/account",
    "/static",
)

# Public pages the gateway may answer from its HTTP cache when the service marks the
# answer cacheable (edge_cache.py); the service answers them under this same path.
CACHEABLE_PATHS: tuple[str, ...] = ("/api/products",)

# Paths every service answers itself, published under the service's public name.
SERVICE_PATHS: tuple[str, ...] = ("/health", "/health/ready", "/openapi.json")


@dataclass(frozen=True, slots=True)
class ExactPath:
    """One exact public path mapped to one exact path of a service."""

    public_path: str
    service: str
    upstream_path: str


def published_prefixes(routes: tuple[Route, ...] = ROUTES) -> dict[str, str]:
    """Each service's public name: the prefix of its first route."""
    prefixes: dict[str, str] = {}
    for route in routes:
        prefixes.setdefault(route.service, route.public_prefix)
    return prefixes


def public_prefix(service: str, routes: tuple[Route, ...] = ROUTES) -> str | None:
    """None for a service the gateway does not publish."""
    return published_prefixes(routes).get(service)


def service_paths(routes: tuple[Route, ...] = ROUTES) -> list[ExactPath]:
    return [
        ExactPath(prefix + path, service, path)
        for service, prefix in published_prefixes(routes).items()
        for path in SERVICE_PATHS
    ]


def openapi_urls(routes: tuple[Route, ...] = ROUTES) -> dict[str, str]:
    """Each service's OpenAPI document as the gateway publishes it."""
    return _published("/openapi.json", routes)


def health_urls(routes: tuple[Route, ...] = ROUTES) -> dict[str, str]:
    """Each service's health check as the gateway publishes it."""
    return _published("/health", routes)


def _published(path: str, routes: tuple[Route, ...]) -> dict[str, str]:
    return {service: prefix + path for service, prefix in published_prefixes(routes).items()}


def cacheable_paths(routes: tuple[Route, ...] = ROUTES) -> list[ExactPath]:
    """Each cacheable page with the service behind its prefix, forwarded unchanged."""
    found = []
    for path in CACHEABLE_PATHS:
        route = next(r for r in routes if path.startswith(r.public_prefix))
        found.append(ExactPath(path, route.service, path))
    return found
