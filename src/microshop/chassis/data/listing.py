"""The list endpoint every service has: rows of one table, optionally filtered by
equality on a few columns, in a fixed order, one page at a time.

    PAYMENTS = Listing(payments, payments.c.id, filters=("user_id", "order_id"))
    rows = await PAYMENTS.fetch(db, page, user_id=7, order_id=None)   # None: no filter

One compiled statement per combination of filters, so each uses its index.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, select

from microshop.chassis.data.database import Database, Row
from microshop.chassis.data.query import Query
from microshop.chassis.paging import Page


class Listing:
    def __init__(
        self, table: Table, order_by: ColumnElement[Any], filters: Sequence[str] = ()
    ) -> None:
        self.table, self.order_by, self.filters = table, order_by, tuple(filters)
        self._queries: dict[frozenset[str], Query] = {}

    def query(self, present: frozenset[str]) -> Query:
        found = self._queries.get(present)
        if found is None:
            statement = select(self.table)
            for name in self.filters:
                if name in present:
                    statement = statement.where(self.table.c[name] == bindparam(name))
            statement = (
                statement.order_by(self.order_by)
                .limit(bindparam("limit"))
                .offset(bindparam("offset"))
            )
            found = self._queries[present] = Query(statement)
        return found

    async def fetch(self, db: Database, page: Page, **filters: Any) -> list[Row]:
        unknown = set(filters) - set(self.filters)
        if unknown:
            raise TypeError(f"not a filter of this listing: {sorted(unknown)}")
        given = {name: value for name, value in filters.items() if value is not None}
        return await db.fetch_all(
            self.query(frozenset(given)), limit=page.limit, offset=page.offset, **given
        )
