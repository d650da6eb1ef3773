"""``INSERT ... ON CONFLICT`` for both backends (SQLite >= 3.24 and PostgreSQL share the syntax)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import ColumnElement


def _insert(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported dialect {dialect!r}")


def upsert(
    dialect: str,
    table: sa.Table,
    keys: Sequence[str],
    update: Sequence[str],
    where: Callable[[ReadOnlyColumnCollection[str, Any]], ColumnElement[bool]] | None = None,
) -> sa.Insert:
    """An executemany-ready upsert: a conflicting row takes the ``update`` columns of the new row, when
    ``where(excluded)`` holds (``excluded`` names the new row's columns)."""
    stmt = _insert(dialect, table)
    set_ = {name: stmt.excluded[name] for name in update}
    condition = where(stmt.excluded) if where is not None else None
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=condition)


def insert_ignore(dialect: str, table: sa.Table, keys: Sequence[str]) -> sa.Insert:
    """An insert that skips rows whose ``keys`` already exist (any conflict at all when ``keys`` is empty)."""
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys) or None)


#: Rows per statement of :func:`execute_rows` (four columns each: within SQLite's oldest limit of 999 bound
#: parameters).
_ROWS_PER_STATEMENT = 200


def execute_rows(conn: sa.Connection, stmt: sa.Insert, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert (or upsert) ``rows`` with ``stmt`` as one multi-row statement per ``_ROWS_PER_STATEMENT``
    rows, not one statement per row: on PostgreSQL the triggers of ``params`` and ``tags`` run once per
    statement (see revision 0010), so a batch's rows are merged into their run at once."""
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        conn.execute(stmt.values(list(rows[start : start + _ROWS_PER_STATEMENT])))


__all__ = ["execute_rows", "insert_ignore", "upsert"]
