"""Engines for SQLite and PostgreSQL, and the one way this package opens transactions.

``make_engine`` builds an engine (nothing is created at import time). SQLite runs in WAL mode with a 30 s busy
timeout, foreign keys on and ``synchronous=NORMAL``; the sqlite3 driver's legacy transaction handling is
turned off so that SQLAlchemy emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` for writes (the write lock is taken
up front, so a read-then-write never fails half way with "database is locked") and a deferred ``BEGIN`` for
reads. Writers to one SQLite file queue on a :class:`~wayline.store.sql.writer_lock.WriterLock` (threads and
processes) instead of polling in SQLite's busy handler. PostgreSQL uses psycopg 3 with a connection pool
whose connections are pinged before use when they have sat idle (:func:`_ping_when_idle`); a read switches
its connection to autocommit on the driver itself (:func:`_autocommit`) until it returns to the pool.
One-statement writes take their connections from a second, small pool of the engine's, kept in autocommit
mode (:func:`autocommit_pool`, :mod:`~wayline.store.sql.autocommit_pool`).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import StaticPool

from wayline.errors import InternalError, InvalidParameterValue, TemporarilyUnavailable, WaylineError
from wayline.store.pool_limits import PoolLimits
from wayline.store.sql.autocommit_pool import AutocommitPool
from wayline.store.sql.writer_lock import WriterLock

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "wayline_sqlite_begin"
#: The write queue of each SQLite file engine (see ``writer_lock``).
_WRITER_LOCKS: weakref.WeakKeyDictionary[sa.Engine, WriterLock] = weakref.WeakKeyDictionary()
#: The autocommit pool of each PostgreSQL engine, for one-statement writes (see ``autocommit_pool``).
_AUTOCOMMIT_POOLS: weakref.WeakKeyDictionary[sa.Engine, AutocommitPool] = weakref.WeakKeyDictionary()
#: A pooled PostgreSQL connection returned less than this many seconds ago is used without a ping.
PING_AFTER_IDLE_SECONDS = 1.0
#: A pooled PostgreSQL connection is replaced once it is this many seconds old.
RECYCLE_SECONDS = 1800
_IDLE_SINCE = "wayline_idle_since"
#: psycopg prepares a statement on a connection once it has run it this many times (psycopg's default: 5).
#: PostgreSQL then plans the prepared statement afresh for five more executions before it may keep a generic
#: plan, so with the default a statement is parsed and planned on each of its first ten executions per
#: connection: a server's first searches of a kind took ~9 ms against ~6 ms once their plans were kept (the
#: benchmark's filtered search over 10,000 runs; its median of 20 searches ~9% lower with 1). At 1, a
#: statement that runs once (a migration's DDL, a one-off query) is never prepared, one that runs again is.
PREPARE_AFTER = 1


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``; other URLs are kept."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidParameterValue("Invalid value '' for parameter 'db_uri': must not be empty")
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise InvalidParameterValue(f"Invalid value {url!r} for parameter 'db_uri': expected a database URL")
    if scheme.lower() in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def make_engine(url: str, limits: PoolLimits | None = None) -> sa.Engine:
    """An engine for ``sqlite:///path``, ``sqlite:///:memory:``, ``postgresql[+psycopg]://`` or ``postgres://``.

    A PostgreSQL engine's pool follows ``limits``, else the environment (:meth:`PoolLimits.from_env`)."""
    normalized = normalize_url(url)
    try:
        parsed = make_url(normalized)
    except ArgumentError as exc:
        raise InvalidParameterValue(f"Invalid value for parameter 'db_uri': {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        limits = limits.checked() if limits is not None else PoolLimits.from_env()
        engine = sa.create_engine(
            parsed,
            pool_size=limits.size,
            max_overflow=limits.max_overflow,
            pool_timeout=limits.timeout_s,
            pool_recycle=RECYCLE_SECONDS,
            # The connection returned last: statements are prepared per connection, and first in, first
            # out, two idle connections (one opened while the statistics thread held the other) take turns
            # by request, so each reaches a statement's prepared, kept plan after twice as many requests.
            pool_use_lifo=True,
            connect_args={"prepare_threshold": PREPARE_AFTER},
        )
        _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
        _autocommit_until_checkin(engine)
        _AUTOCOMMIT_POOLS[engine] = AutocommitPool(
            ping_after=PING_AFTER_IDLE_SECONDS, recycle_after=RECYCLE_SECONDS
        )
        return engine
    raise InvalidParameterValue(
        f"Invalid value for parameter 'db_uri': unsupported database '{backend}' (use sqlite or postgresql)"
    )


def _ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only when it has been idle ``idle_seconds`` or more.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip before every request's first
    statement (~0.13 ms, a fifth of a single-point ``log-metric`` here). A connection back from a request a
    moment ago is as good as pinged. One that sat idle through a database restart, a failover or an
    idle-session timeout is pinged, and a dead one is replaced before the request sees it (the pool retries
    the checkout). A connection that dies in the second after its last use fails its next statement instead:
    the request gets a 503 (``TemporarilyUnavailable``, which clients retry), and SQLAlchemy then replaces
    every connection of the pool that is older than the failure, as it does for any disconnect.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)  # None: connected for this checkout
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("pooled connection failed its ping") from exc


def _autocommit_until_checkin(engine: sa.Engine) -> None:
    """Put a PostgreSQL connection that :func:`_autocommit` switched to autocommit back to transactions when
    it returns to the pool (after the pool's reset, so it is idle)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is None or not dbapi_connection.autocommit:
            return
        try:
            dbapi_connection.autocommit = False
        except engine.dialect.loaded_dbapi.Error as exc:  # a broken connection: its next use replaces it
            log.warning("could not restore transactions on a pooled connection: %s", exc)


def _autocommit(conn: sa.Connection) -> None:
    """Let each statement of ``conn`` (PostgreSQL) commit on its own, until it returns to the pool.

    The switch is psycopg's own ``autocommit`` attribute, set on the driver connection: microseconds and no
    round trip. Asking SQLAlchemy for it (``isolation_level="AUTOCOMMIT"``) cost ~0.2 ms a request in a
    profile, since it sets and resets the isolation level as a connection characteristic. Keeping the pool's
    connections in autocommit instead, with a ``begin`` event turning it off for transactions, made every
    statement pay for SQLAlchemy's connection events."""
    driver: Any = conn.connection.driver_connection
    driver.autocommit = True


def _sqlite_engine(parsed: sa.URL) -> sa.Engine:
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {}
    if in_memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, **kwargs)
    if not in_memory:
        _WRITER_LOCKS[engine] = WriterLock(Path(database).expanduser().resolve())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN (see the module docstring) instead of the driver's legacy mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _unavailable(engine: sa.Engine, driver_error: BaseException | None) -> bool:
    """Whether a driver's OperationalError means a busy/locked SQLite database or a PostgreSQL connection
    problem (SQLite also reports bad SQL as an OperationalError; that is an internal error)."""
    if engine.dialect.name != "sqlite":
        return True
    text = str(driver_error).lower()
    return "locked" in text or "busy" in text


@contextmanager
def transaction(
    engine: sa.Engine, *, write: bool = False, one_statement: bool = False
) -> Iterator[sa.Connection]:
    """One transaction, committed when the block ends and rolled back on error.

    A read (``write`` false) on PostgreSQL runs its statements in autocommit mode instead: at the READ
    COMMITTED level each statement takes its own snapshot inside a transaction too, so a BEGIN and a COMMIT
    would only add two round trips (~0.17 ms a request) and keep a transaction open while the caller works
    between statements. Writes must pass ``write=True``. SQLite reads keep a deferred BEGIN (one snapshot).
    A write whose block runs a single statement (``one_statement``), atomic by itself, runs in autocommit
    mode on PostgreSQL too (:mod:`wayline.store.sql.one_statement` runs such a statement without a
    SQLAlchemy connection). Database errors are translated by :func:`database_errors`.
    """
    writer = _WRITER_LOCKS.get(engine) if write else None
    with (
        database_errors(engine),
        writer.hold() if writer is not None else nullcontext(),
        engine.connect() as conn,
    ):
        if engine.dialect.name == "sqlite":
            if write:
                conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        elif one_statement or not write:
            _autocommit(conn)
        with conn.begin():
            yield conn


@contextmanager
def database_errors(engine: sa.Engine) -> Iterator[None]:
    """Database errors raised in the block never escape raw: a busy or unreachable database, or a pool with
    no connection free in time, is TemporarilyUnavailable, a value too long for its column
    InvalidParameterValue, anything else an InternalError (logged with its traceback). Callers that expect an
    IntegrityError (a unique name) catch it inside the block and raise the specific WaylineError."""
    try:
        yield
    except WaylineError:
        raise
    except OperationalError as exc:
        if not _unavailable(engine, exc.orig):
            log.exception("database error")
            raise InternalError("internal error: database error") from exc
        log.warning("database unavailable: %s", exc.orig)
        raise TemporarilyUnavailable("The database is busy or unavailable; try again") from exc
    except DataError as exc:
        raise InvalidParameterValue(
            "Invalid value: a value is too long or malformed for the database"
        ) from exc
    except PoolTimeout as exc:
        log.warning(
            "no database connection became free in time (%s); raise --db-pool-size or --db-max-overflow"
            " (WAYLINE_DB_POOL_SIZE, WAYLINE_DB_MAX_OVERFLOW) if this recurs",
            exc,
        )
        raise TemporarilyUnavailable("Every database connection is in use; try again") from exc
    except IntegrityError as exc:
        log.exception("unexpected integrity error")
        raise InternalError("internal error: a database constraint was violated") from exc
    except (DBAPIError, SQLAlchemyError) as exc:
        log.exception("database error")
        raise InternalError("internal error: database error") from exc
    except engine.dialect.loaded_dbapi.Error as exc:
        # Raised by the driver directly (the hot paths' driver calls), without SQLAlchemy's wrapper.
        if isinstance(exc, engine.dialect.loaded_dbapi.DataError):
            raise InvalidParameterValue(
                "Invalid value: a value is too long or malformed for the database"
            ) from exc
        if isinstance(exc, engine.dialect.loaded_dbapi.OperationalError) and _unavailable(engine, exc):
            log.warning("database unavailable: %s", exc)
            raise TemporarilyUnavailable("The database is busy or unavailable; try again") from exc
        log.exception("database error")
        raise InternalError("internal error: database error") from exc


def autocommit_pool(engine: sa.Engine) -> AutocommitPool | None:
    """The autocommit pool of a PostgreSQL engine made by :func:`make_engine` (None for others)."""
    return _AUTOCOMMIT_POOLS.get(engine)


def renew(engine: sa.Engine) -> None:
    """Close the engine's pooled connections, its autocommit pool's too: the next statements get new ones
    (after a lost connection, the others may be gone too)."""
    pool = _AUTOCOMMIT_POOLS.get(engine)
    if pool is not None:
        pool.dispose()
    engine.dispose()


def dispose(engine: sa.Engine) -> None:
    """Close the engine's pooled connections (:func:`renew`) and its SQLite write queue's lock file."""
    renew(engine)
    writer = _WRITER_LOCKS.pop(engine, None)
    if writer is not None:
        writer.close()


__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "autocommit_pool",
    "database_errors",
    "dispose",
    "make_engine",
    "normalize_url",
    "renew",
    "transaction",
]
