"""A statement written once in SQLAlchemy Core, compiled once per dialect.

Compiling costs about a millisecond; executing the compiled text costs tens of
microseconds. So a `Query` is built at import time and compiled on first use on
each dialect, then only its text and parameter order are used.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import Column, Table, bindparam, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter, ClauseElement, Executable


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    # The parameter names in the order the text uses them (positional dialects);
    # None where the driver takes them by name (SQLite).
    names: tuple[str, ...] | None
    # Values written into the statement itself (`.values(status="refunded")`), which
    # SQLAlchemy still sends as parameters.
    literals: dict[str, Any] | None

    def named(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return params if self.literals is None else {**self.literals, **params}

    def positional(self, params: Mapping[str, Any]) -> list[Any]:
        if self.literals is not None:
            params = {**self.literals, **params}
        return [params[name] for name in self.names or ()]


def _dialect(name: str) -> Dialect:
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

        return SQLiteDialect_pysqlite(paramstyle="named")
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

        return PGDialect_asyncpg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated
    if name == "mysql":
        from sqlalchemy.dialects.mysql.asyncmy import MySQLDialect_asyncmy

        return MySQLDialect_asyncmy()
    raise ValueError(f"unknown dialect {name!r}")


_DIALECTS: dict[str, Dialect] = {}


def dialect_of(name: str) -> Dialect:
    if name not in _DIALECTS:
        _DIALECTS[name] = _dialect(name)
    return _DIALECTS[name]


class Query:
    """One statement, or one per dialect where the engines' SQL differs.

    `returns_id` names the integer key an INSERT creates: the adapters read it back
    (lastrowid, or RETURNING on PostgreSQL) for `Transaction.insert`.
    """

    __slots__ = ("_build", "_compiled", "returns_id")

    def __init__(
        self,
        statement: Executable | Callable[[str], Executable],
        *,
        returns_id: Column[Any] | None = None,
    ) -> None:
        self._build = statement
        self.returns_id = returns_id
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: str) -> Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            found = self._compiled[dialect] = self._compile(dialect)
        return found

    def _compile(self, dialect: str) -> Compiled:
        statement = self._build(dialect) if callable(self._build) else self._build
        if self.returns_id is not None and dialect == "postgresql":
            statement = statement.returning(self.returns_id)  # type: ignore[attr-defined]
        # Every statement here (select, insert, update, delete) is a ClauseElement
        # too, and compiles to a SQLCompiler.
        compiled = cast(
            SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect_of(dialect))
        )
        names = None if dialect == "sqlite" else tuple(compiled.positiontup or ())
        literals = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required
        }
        return Compiled(compiled.string, names, literals or None)


def insert_into(
    table: Table,
    columns: Sequence[str],
    *,
    on_duplicate: Literal["fail", "skip"] = "fail",
    returns_id: bool = False,
) -> Query:
    """INSERT of `columns`, each bound to the parameter of the same name.

    `on_duplicate="skip"` inserts nothing when a unique key already holds the row
    (`ON CONFLICT DO NOTHING`, MariaDB's `INSERT IGNORE`); the row count says which.
    """
    values: dict[str, BindParameter[Any]] = {name: bindparam(name) for name in columns}
    key = table.c.id if returns_id else None

    def build(dialect: str) -> Executable:
        if on_duplicate == "fail":
            return insert(table).values(values)
        if dialect == "mysql":
            return insert(table).prefix_with("IGNORE").values(values)
        # PostgreSQL's and SQLite's ON CONFLICT share a syntax and a compiler visit.
        return pg_insert(table).values(values).on_conflict_do_nothing()

    return Query(build, returns_id=key)
