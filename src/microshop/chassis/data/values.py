"""Values as the engines hand them back, made the same on every engine.

SQLite keeps NUMERIC as REAL and timestamps as text, MariaDB keeps naive
datetimes and TINYINT booleans; PostgreSQL returns what was stored. Rows are
read through these, so a use case sees Decimal money, aware UTC datetimes and
real booleans on all three.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")
# SQLite stores a timestamp as text in the format SQLAlchemy used before the port
# (so existing data files read back): "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, always
# with microseconds, so that text order is time order.


def utc_now() -> datetime:
    return datetime.now(UTC)


def money(value: Any) -> Decimal:
    """Decimal to the cent; a REAL from SQLite goes through its shortest repr,
    which is exact for the 14 significant digits our amounts have."""
    if isinstance(value, Decimal):
        return value.quantize(CENT)
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(CENT)
    return Decimal(value).quantize(CENT)


def optional_money(value: Any) -> Decimal | None:
    return None if value is None else money(value)


def timestamp(value: Any) -> datetime:
    """An aware UTC datetime from a datetime (aware or naive UTC) or SQLite's text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


def optional_timestamp(value: Any) -> datetime | None:
    return None if value is None else timestamp(value)


def flag(value: Any) -> bool:
    return bool(value)


def sqlite_timestamp(value: datetime) -> str:
    # isoformat with timespec is C code and always writes microseconds; strftime was
    # a visible share of a commit.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)
