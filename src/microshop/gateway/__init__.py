"""The edge gateway: one routing table rendered into Envoy configuration.

`routes.ROUTES` is the whole public API. Each service is published under one name,
the prefix of its first route, which also carries its health checks and its
OpenAPI document:

    users          /api/users     (and /api/auth)   /api/users/health, /api/users/openapi.json
    catalog        /api/products                    /api/products/health, ...
    orders         /api/orders                      /api/orders/health, ...
    notifications  /api/notifications
    payments       /api/payments
    shipping       /api/shipments
    order_history  /api/order-history

Envoy answers `/` (what runs here), `/health` and `/api/docs` (Swagger UI over every
document, its files under `/api/docs/`) itself, and writes its own error replies
(local_replies.py). `microshop gateway config` prints what `microshop up` runs.
"""
