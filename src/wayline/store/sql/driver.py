"""Running a SQLAlchemy Core statement as the driver's own SQL, for hot statements built once.

A one-point ``log-metric`` runs four short statements, and a filtered search two that return a hundred rows;
SQLAlchemy's compiled-statement path (looking up the compiled form by cache key, processing the parameters,
building the result's rows) costs more than SQLite spends on each, and 0.3-0.5 ms of a search's ~13 ms over
HTTP on a slow machine. Here a statement is compiled once per dialect to its SQL string, its own bound
literals, the order of its parameters and their types' bind processors, and then executed with
``exec_driver_sql`` (SQLAlchemy's events still see every statement). The statement stays written in Core (one
source of truth for both dialects), only the per-call work goes. Rows come back as the driver's tuples,
without result processing: callers read columns whose driver values are already what they need (text,
integers, floats; booleans may arrive as 0/1). A statement that binds an expanding ``IN`` list (its SQL
depends on the list's length) runs through SQLAlchemy.

Such a statement runs on a DB-API cursor of the SQLAlchemy connection (:func:`_on_cursor`) through the
connection's own cursor-level step, the one SQLAlchemy uses for its special-case executions: the
``before_cursor_execute`` and ``after_cursor_execute`` listeners see the statement (with no execution
context), echo logs it, and a driver error is handled as any other (wrapped as a ``DBAPIError``; a lost
connection invalidates the pool). What is skipped is the result object, whose metadata SQLAlchemy builds from
the cursor's description on every execution of driver SQL: ~0.2 ms of a search's two statements (about 4% of
the filtered search over HTTP on a fast machine).

Statements are module constants or built once per search shape and kept by an ``lru_cache``; their compiled
forms are held weakly, so that a statement the cache drops takes its compiled form with it.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    """What running a statement as driver SQL takes, none of it referring to the statement itself (so that
    the weak cache can let it go)."""

    sql: str
    #: The parameter names in the order of a positional paramstyle; None for a named one.
    order: tuple[str, ...] | None
    #: The statement's own bound values (its literals), by parameter name, through their bind processors.
    literals: Mapping[str, Any]
    #: The names that each execution must bind.
    required: frozenset[str]
    #: Each parameter's bind processor, where its type has one.
    processors: Mapping[str, Callable[[Any], Any]]

    def arguments(self, params: Mapping[str, Any]) -> Any:
        """The driver's arguments for ``params``: each value through its bind processor, in the order of a
        positional paramstyle."""
        missing = self.required.difference(params)
        if missing:
            raise ValueError(f"missing bound parameters: {sorted(missing)}")
        values = {**self.literals, **params}
        for name, process in self.processors.items():
            if name in params:
                values[name] = process(params[name])
        if self.order is None:
            return values
        return tuple(values[name] for name in self.order)


#: Per statement, its compiled form per dialect name; None for a statement SQLAlchemy must run (its SQL
#: depends on the lengths of the lists it binds to an expanding ``IN``, or it binds tuples of typed members).
_COMPILED: weakref.WeakKeyDictionary[sa.Executable, dict[str, _Compiled | None]] = weakref.WeakKeyDictionary()


def compiled_for(dialect: sa.Dialect, stmt: sa.Executable) -> _Compiled | None:
    """``stmt``'s compiled form for ``dialect``, made once; None for a statement SQLAlchemy must run."""
    forms = _COMPILED.get(stmt)
    if forms is not None and dialect.name in forms:
        return forms[dialect.name]
    compiled: SQLCompiler = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
    if compiled.escaped_bind_names:
        raise ValueError("a statement run as driver SQL must bind plain parameter names")
    processors = {name: process for name, process in compiled._bind_processors.items() if callable(process)}
    found = None
    # Not an expanding list, nor a tuple whose members have processors of their own.
    if not compiled.post_compile_params and len(processors) == len(compiled._bind_processors):
        required = frozenset(name for bind, name in compiled.bind_names.items() if bind.required)
        literals = {
            name: processors[name](value) if name in processors else value
            for name, value in compiled.construct_params(_check=False).items()
            if name not in required
        }
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        found = _Compiled(compiled.string, order, literals, required, processors)
    # Two threads may both compile it: the same compiled form either way.
    _COMPILED.setdefault(stmt, {})[dialect.name] = found
    return found


def driver_query(conn: sa.Connection, stmt: sa.Executable, params: Mapping[str, Any]) -> tuple[str, Any]:
    """``stmt`` with ``params`` as the SQL and the arguments that ``conn``'s driver takes, for a statement
    that binds no expanding list and no tuple of typed members."""
    compiled = compiled_for(conn.dialect, stmt)
    if compiled is None:
        raise ValueError("a statement that binds an expanding list or typed tuples cannot run as driver SQL")
    return compiled.sql, compiled.arguments(params)


_T = TypeVar("_T")


def _on_cursor(conn: sa.Connection, sql: str, args: Any, read: Callable[[Any], _T]) -> _T:
    """``read`` of a DB-API cursor of ``conn`` that has executed ``sql`` with ``args`` (see the module).
    Like SQLAlchemy's own execution, it begins the connection's transaction if none has begun."""
    if not conn.in_transaction():
        conn.begin()
    cursor = conn.connection.cursor()
    try:
        conn._cursor_execute(cursor, sql, args)
        try:
            return read(cursor)
        except BaseException as exc:  # as SQLAlchemy's results handle a failed fetch
            conn._handle_dbapi_exception(exc, sql, args, cursor, None)
    finally:
        with contextlib.suppress(Exception):  # a connection lost and invalidated closed its cursors
            cursor.close()


def fetched(cursor: Any) -> list[tuple[Any, ...]]:
    """The rows an executed DB-API cursor returned."""
    return list(cursor.fetchall())


def changed(cursor: Any) -> int:
    """How many rows an executed DB-API cursor's statement changed."""
    return int(cursor.rowcount)


def driver_rows(conn: sa.Connection, stmt: sa.Executable, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of ``stmt`` (a statement that returns rows) as the driver's tuples."""
    compiled = compiled_for(conn.dialect, stmt)
    if compiled is not None:
        return _on_cursor(conn, compiled.sql, compiled.arguments(params), fetched)
    result = conn.execute(stmt, dict(params))
    try:
        cursor = result.cursor
        return list(cursor.fetchall()) if cursor is not None and cursor.description else []
    finally:
        result.close()


def driver_rowcount(conn: sa.Connection, stmt: sa.Executable, params: Mapping[str, Any]) -> int:
    """How many rows ``stmt`` (an INSERT, UPDATE or DELETE) changed."""
    compiled = compiled_for(conn.dialect, stmt)
    if compiled is not None:
        return _on_cursor(conn, compiled.sql, compiled.arguments(params), changed)
    result = conn.execute(stmt, dict(params))
    try:
        return int(result.rowcount)
    finally:
        result.close()


def driver_execute_many(conn: sa.Connection, stmt: sa.Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """``stmt`` once per row of ``rows`` (one executemany)."""
    compiled = compiled_for(conn.dialect, stmt)
    if compiled is None:
        conn.execute(stmt, [dict(row) for row in rows])
        return
    args = [compiled.arguments(row) for row in rows]
    conn.exec_driver_sql(compiled.sql, args[0] if len(args) == 1 else args)


__all__ = [
    "changed",
    "compiled_for",
    "driver_execute_many",
    "driver_query",
    "driver_rowcount",
    "driver_rows",
    "fetched",
]
