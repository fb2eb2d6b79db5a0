"""What the services' own databases say once the load is over: every order's
outcome, the stock, the e-mails, the read model and the shipments. orders and
catalog are in the machine's PostgreSQL; the others in SQLite files on their host."""

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import asyncpg

FINAL = frozenset({"approved", "rejected", "cancelled"})


@dataclass
class Ledger:
    statuses: dict[int, str]  # order id -> status, every order the orders service holds
    approved_quantity: int  # of the products under load, in approved orders
    stock: int  # what is left of them
    mails: Counter[int]  # order id -> confirmation e-mails
    history: dict[int, str | None]  # order id -> status in order_history's view
    shipments: Counter[int]  # order id -> shipments made for it
    reasons: Counter[str]  # why the orders not approved were not

    def unfinished(self) -> list[int]:
        return [order for order, status in self.statuses.items() if status not in FINAL]

    def history_behind(self) -> list[int]:
        return [o for o, s in self.statuses.items() if self.history.get(o) != s]

    def mails_missing(self) -> list[int]:
        return [o for o, s in self.statuses.items() if s == "approved" and not self.mails[o]]

    def applied_twice(self) -> dict[str, list[int]]:
        return {
            "confirmation e-mails": [o for o, n in self.mails.items() if n > 1],
            "shipments": [o for o, n in self.shipments.items() if n > 1],
        }


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        return db.execute(sql).fetchall()


async def read(data: Path, products: list[int]) -> Ledger:
    orders = await asyncpg.connect(
        host="127.0.0.1", user="postgres", database="microshop_cluster_orders"
    )
    try:
        rows = await orders.fetch("SELECT id, status, reason FROM orders")
        statuses = {r["id"]: r["status"] for r in rows}
        reasons = Counter(str(r["reason"]) for r in rows if r["status"] != "approved")
        approved = await orders.fetchval(
            "SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o"
            " ON o.id = l.order_id WHERE o.status = 'approved' AND l.product_id = ANY($1)",
            products,
        )
    finally:
        await orders.close()
    catalog = await asyncpg.connect(
        host="127.0.0.1", user="postgres", database="microshop_cluster_catalog"
    )
    try:
        stock = await catalog.fetchval(
            "SELECT SUM(stock) FROM products WHERE id = ANY($1)", products
        )
    finally:
        await catalog.close()
    mails: Counter[int] = Counter()
    for (subject,) in _rows(data / "h3/data/notifications.db", "SELECT subject FROM sent_messages"):
        text = str(subject)
        if text.startswith("Order #") and text.endswith(" confirmed"):
            mails[int(text.removeprefix("Order #").split()[0])] += 1
    history = {
        int(str(o)): (str(s) if s is not None else None)
        for o, s in _rows(
            data / "h3/data/order_history.db", "SELECT order_id, status FROM order_views"
        )
    }
    shipments = Counter(
        int(str(o))
        for (o,) in _rows(data / "h1/data/shipping.db", "SELECT order_id FROM shipments")
    )
    return Ledger(statuses, int(approved), int(stock), mails, history, shipments, reasons)
