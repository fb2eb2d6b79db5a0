"""Domain records read back from rows whose columns bear their fields' names.

    payment_from = row_reader(Payment, amount=money, created_at=timestamp)
    payment = payment_from(row)
    payment = await fetch_record(db, BY_ID, payment_from, id=7)   # None: no such row

Each field of the dataclass takes the column of its name, through the converter
named after it where one is given (money, timestamps, enums: values.py).
"""

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from microshop.chassis.data.database import Database, Row, Transaction
from microshop.chassis.data.query import Query

T = TypeVar("T")


def row_reader(kind: type[T], **convert: Callable[[Any], Any]) -> Callable[[Row], T]:
    plan = tuple(
        (field.name, convert.pop(field.name, None))
        for field in fields(kind)  # type: ignore[arg-type]
        if field.init
    )
    if convert:
        raise TypeError(f"{kind.__name__} has no field {sorted(convert)}")

    def read(row: Row) -> T:
        return kind(**{name: row[name] if to is None else to(row[name]) for name, to in plan})

    return read


async def fetch_record(
    source: Database | Transaction, query: Query, record: Callable[[Row], T], /, **params: Any
) -> T | None:
    """The one row `query` finds, as `record(row)`; None if it finds none."""
    row = await source.fetch_one(query, **params)
    return None if row is None else record(row)
