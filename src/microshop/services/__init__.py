"""The bounded contexts. Each package is one service; none imports another.

The runtime starts them by name; `APPS` maps the name to the app factory path so
the runtime never imports a service's code to know it exists.
"""

APPS: dict[str, str] = {
    "users": "microshop.services.users.main:build_app",
    "catalog": "microshop.services.catalog.main:build_app",
    "orders": "microshop.services.orders.main:build_app",
    "notifications": "microshop.services.notifications.main:build_app",
    "payments": "microshop.services.payments.main:build_app",
    "shipping": "microshop.services.shipping.main:build_app",
    "order_history": "microshop.services.order_history.main:build_app",
    "web": "microshop.services.web.main:build_app",
    "ops": "microshop.services.ops.main:build_app",
}
