"""A write that is one statement, atomic by itself, run on PostgreSQL without a SQLAlchemy ``Connection``.

A single-point ``log-metric``, a ``log-parameter`` and a ``set-tag`` are each one statement
(:mod:`~wayline.store.sql.ingest_at_once`, :mod:`~wayline.store.sql.ingest_one`) that commits by itself
(autocommit). Around it, SQLAlchemy's ``Connection`` is made for the block, begins and commits a root
transaction though the driver has nothing to commit, then is closed and reset. Without it, a single-point
``log_batch`` in the store took 142–152 µs of CPU instead of 155–171 (called in a loop on a 2-core machine),
and through the server (16 client processes, 4 workers) the workers spent 360–384 µs per request instead of
401–470. Here the statement runs on a cursor of its own on a driver connection of the engine's autocommit
pool (:mod:`~wayline.store.sql.autocommit_pool`), which stays in autocommit mode. When that pool's
connections are all in use, it runs on one checked out of the engine's own pool (``Engine.raw_connection``:
the pool's checkout ping and checkin hooks of :mod:`~wayline.store.sql.engine` apply, and the connection
goes back to transactions when it returns).

When something watches the engine's statements (listeners of ``before_cursor_execute``,
``after_cursor_execute`` or ``handle_error``, or SQLAlchemy's SQL log), the statement runs through a
``Connection`` instead (:func:`~wayline.store.sql.engine.transaction` with ``one_statement``), so that they
see it; on SQLite it always does (its writes queue on the writer lock and run in ``BEGIN IMMEDIATE``).

Errors are translated as every transaction's are (:func:`~wayline.store.sql.engine.database_errors`). A
driver error that means the connection is lost invalidates it and renews the pool, as SQLAlchemy does for
its own statements (both pools): the request fails as a 503 and the next one gets a new connection.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from wayline.store.sql.driver import changed, compiled_for, driver_rowcount, driver_rows, fetched
from wayline.store.sql.engine import autocommit_pool, database_errors, renew, transaction

_T = TypeVar("_T")


class Statements(Protocol):
    """Where a one-statement write runs its statement (a statement that :mod:`wayline.store.sql.driver` can
    run as driver SQL)."""

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        ...

    def rows(self, stmt: sa.Executable, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows the statement returns, as the driver's tuples."""
        ...

    def rowcount(self, stmt: sa.Executable, params: Mapping[str, Any]) -> int:
        """How many rows the statement changed."""
        ...


class _OnConnection:
    """A statement run through a SQLAlchemy ``Connection``."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> str:
        return self._conn.dialect.name

    def rows(self, stmt: sa.Executable, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return driver_rows(self._conn, stmt, params)

    def rowcount(self, stmt: sa.Executable, params: Mapping[str, Any]) -> int:
        return driver_rowcount(self._conn, stmt, params)


class _OnDriver:
    """A statement run on a driver connection in autocommit mode; ``lost`` is called with the driver error
    that means the connection is lost, before it is raised."""

    def __init__(self, engine: sa.Engine, driver: Any, lost: Callable[[BaseException], None]) -> None:
        self._engine = engine
        self._driver = driver
        self._lost = lost

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def rows(self, stmt: sa.Executable, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return self._run(stmt, params, fetched)

    def rowcount(self, stmt: sa.Executable, params: Mapping[str, Any]) -> int:
        return self._run(stmt, params, changed)

    def _run(self, stmt: sa.Executable, params: Mapping[str, Any], read: Callable[[Any], _T]) -> _T:
        dialect = self._engine.dialect
        compiled = compiled_for(dialect, stmt)
        if compiled is None:
            raise ValueError("a one-statement write must be a statement that runs as driver SQL")
        cursor = self._driver.cursor()
        try:
            cursor.execute(compiled.sql, compiled.arguments(params))
            return read(cursor)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, self._driver, cursor):
                self._lost(exc)
            raise
        finally:
            with contextlib.suppress(Exception):  # a lost connection has closed its cursors
                cursor.close()


def _watched(engine: sa.Engine) -> bool:
    """Whether something watches the engine's statements: listeners of its statement events, or its SQL log
    (``echo``, or the ``sqlalchemy.engine`` logger at INFO)."""
    events = engine.dispatch
    if events.before_cursor_execute or events.after_cursor_execute or engine.dialect.dispatch.handle_error:
        return True
    return engine.logger.isEnabledFor(logging.INFO)


@contextmanager
def one_statement(engine: sa.Engine) -> Iterator[Statements]:
    """Where the block runs its one write statement, committed when it has run (see the module)."""
    pool = autocommit_pool(engine)
    if pool is None or _watched(engine):
        with transaction(engine, write=True, one_statement=True) as conn:
            yield _OnConnection(conn)
        return
    with database_errors(engine):
        held = pool.checkout(engine)
        if held is None:
            with _from_engine_pool(engine) as statements:
                yield statements
            return
        lost: list[BaseException] = []

        def on_lost(exc: BaseException) -> None:
            lost.append(exc)
            renew(engine)

        try:
            yield _OnDriver(engine, held.driver, on_lost)
        finally:
            if lost:
                pool.discard(held)
            else:
                pool.checkin(held)


@contextmanager
def _from_engine_pool(engine: sa.Engine) -> Iterator[Statements]:
    """A driver connection of the engine's own pool, in autocommit mode for the block."""
    pooled = engine.raw_connection()
    try:
        # Back to transactions when it returns to the pool (``engine._autocommit_until_checkin``).
        driver: Any = pooled.driver_connection
        driver.autocommit = True

        def on_lost(exc: BaseException) -> None:
            pooled.invalidate(exc)
            renew(engine)

        yield _OnDriver(engine, driver, on_lost)
    finally:
        pooled.close()


__all__ = ["Statements", "one_statement"]
