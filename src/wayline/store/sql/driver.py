"""Running a SQLAlchemy Core statement as the driver's own SQL, for the smallest hot writes.

A one-point ``log-metric`` runs four short statements, and SQLAlchemy's compiled-statement path (cache
lookup, parameter processing, result setup) costs more than SQLite spends on each. Here a statement is
compiled once per dialect to its SQL string and the order of its parameters, and then executed with
``exec_driver_sql``: the statement stays written in Core (one source of truth for both dialects), only the
per-call work goes. Only for statements whose parameters need no type processing (text, numbers, booleans).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: The parameter names in the order of a positional paramstyle; None for a named one.
    order: tuple[str, ...] | None


_COMPILED: dict[tuple[str, int], _Compiled] = {}
#: Statements are module-level constants; holding them keeps their ids from being reused.
_KEEP: list[sa.Executable] = []


def _compiled(conn: sa.Connection, stmt: sa.Executable) -> _Compiled:
    key = (conn.dialect.name, id(stmt))
    found = _COMPILED.get(key)
    if found is None:
        compiled = stmt.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        found = _COMPILED[key] = _Compiled(compiled.string, order)
        _KEEP.append(stmt)
    return found


def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    if compiled.order is None:
        return dict(params)
    return tuple(params[name] for name in compiled.order)


def driver_rows(conn: sa.Connection, stmt: sa.Executable, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of ``stmt`` as the driver's tuples."""
    compiled = _compiled(conn, stmt)
    result = conn.exec_driver_sql(compiled.sql, _arguments(compiled, params))
    try:
        cursor = result.cursor
        return list(cursor.fetchall()) if cursor is not None and cursor.description else []
    finally:
        result.close()


def driver_rowcount(conn: sa.Connection, stmt: sa.Executable, params: Mapping[str, Any]) -> int:
    """How many rows ``stmt`` (an INSERT, UPDATE or DELETE) changed."""
    compiled = _compiled(conn, stmt)
    result = conn.exec_driver_sql(compiled.sql, _arguments(compiled, params))
    try:
        return int(result.rowcount)
    finally:
        result.close()


def driver_execute_many(conn: sa.Connection, stmt: sa.Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """``stmt`` once per row of ``rows`` (one executemany)."""
    compiled = _compiled(conn, stmt)
    args = [_arguments(compiled, row) for row in rows]
    conn.exec_driver_sql(compiled.sql, args[0] if len(args) == 1 else args)


__all__ = ["driver_execute_many", "driver_rowcount", "driver_rows"]
