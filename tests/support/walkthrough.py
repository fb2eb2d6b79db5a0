"""The chapter's Step 7 curl walkthrough, as one call: the e2e suite and the Compose
suite walk it through their own gateway and check what is particular to theirs."""

from typing import Any

from tests.support.http import Api

STARTERS = [("Laptop", 999.99, 10), ("Mouse", 29.99, 50), ("Keyboard", 79.99, 30)]


async def walk_the_tutorial(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """Creates John Doe, reads him back, lists the starter products and orders two
    laptops, which then show in the order list. Returns the user and the order."""
    status, user = await api.post("/api/users", {"name": "John Doe", "email": "john@example.com"})
    assert status == 201, user
    status, fetched = await api.get(f"/api/users/{user['id']}")
    assert status == 200 and fetched["email"] == "john@example.com"

    status, products = await api.get("/api/products")
    assert status == 200
    assert [(p["name"], p["price"], p["stock"]) for p in products[:3]] == STARTERS

    status, order = await api.post(
        "/api/orders", {"user_id": user["id"], "product_id": 1, "quantity": 2}
    )
    assert status == 201, order
    assert (order["quantity"], order["total"]) == (2, 1999.98)
    status, orders = await api.get("/api/orders")
    assert status == 200 and any(o["id"] == order["id"] for o in orders)
    return user, order
