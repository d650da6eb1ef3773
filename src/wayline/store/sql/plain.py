"""Reading rows as the driver's plain tuples, for the hot read paths (metric histories, pages of runs).

SQLAlchemy's ``Row`` objects cost more than the query itself when thousands are read. Here a statement is
executed as usual (so its compiled form comes from SQLAlchemy's cache when the statement is built once, with
bound parameters) and its rows are fetched from the DBAPI cursor in one ``fetchall``, without result
processing: callers read columns whose driver values are already what they need (text, integers, floats;
booleans may arrive as 0/1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

#: A bound list of run ids, expanded at execution (``... IN (__[POSTCOMPILE_ids])``).
RUN_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)


def plain_rows(
    conn: sa.Connection, stmt: sa.Executable, params: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """All rows of ``stmt`` as plain tuples, in the column order of its SELECT."""
    result = conn.execute(stmt, dict(params or {}))
    try:
        cursor = result.cursor
        return list(cursor.fetchall()) if cursor is not None else []
    finally:
        result.close()


__all__ = ["RUN_IDS", "plain_rows"]
