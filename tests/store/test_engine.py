"""Engines: URL normalisation, SQLite settings, and database errors mapped to Wayline errors."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wayline.errors import InternalError, InvalidParameterValue, TemporarilyUnavailable
from wayline.store.sql import engine as engine_module
from wayline.store.sql import make_engine
from wayline.store.sql.engine import normalize_url, transaction


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("  sqlite:////abs/x.db ", "sqlite:////abs/x.db"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize("url", ["", "   ", "no-scheme", "mysql://u@h/db"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(InvalidParameterValue, match="db_uri"):
        make_engine(url)


def test_sqlite_settings(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "wayline.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with transaction(engine) as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
        assert pragma == {"journal_mode": "wal", "busy_timeout": 30000, "foreign_keys": 1, "synchronous": 1}
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_sqlite_in_memory() -> None:
    engine = make_engine("sqlite:///:memory:")
    try:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with transaction(engine) as conn:
            assert conn.exec_driver_sql("SELECT x FROM t").scalar() == 1
    finally:
        engine.dispose()


def test_database_errors_do_not_escape_raw(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(InternalError, match="internal error"), transaction(engine) as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_table")
    finally:
        engine.dispose()


def test_rollback_on_error(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS rollback_check (x INTEGER)")
            conn.exec_driver_sql("DELETE FROM rollback_check")

        def insert_then_fail() -> None:
            with transaction(engine, write=True) as conn:
                conn.exec_driver_sql("INSERT INTO rollback_check VALUES (1)")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            insert_then_fail()
        with transaction(engine) as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM rollback_check").scalar() == 0
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("DROP TABLE rollback_check")
    finally:
        engine.dispose()


def _through_sqlalchemy(conn: Any, sql: str) -> None:
    conn.exec_driver_sql(sql)


def _through_the_driver(conn: Any, sql: str) -> None:
    conn.connection.driver_connection.execute(sql)  # as the ingest hot path does


@pytest.mark.parametrize("execute", [_through_sqlalchemy, _through_the_driver])
def test_a_locked_sqlite_database_is_temporarily_unavailable(
    tmp_path: Path, execute: Callable[[Any, str], None]
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'locked.db'}")
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    try:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        holder.execute("BEGIN IMMEDIATE")  # another writer, outside Wayline's write queue

        def insert() -> None:
            with transaction(engine) as conn:
                conn.exec_driver_sql("PRAGMA busy_timeout = 0")
                execute(conn, "INSERT INTO t VALUES (1)")

        with pytest.raises(TemporarilyUnavailable, match="busy"):
            insert()
        holder.execute("ROLLBACK")
        with transaction(engine) as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    finally:
        holder.close()
        engine.dispose()


# -- PostgreSQL: pooled connections pinged only after sitting idle ------------------------------------------
def _backend_pid(engine: Any) -> int:
    with transaction(engine) as conn:
        pid: int = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    return pid


def _terminate(url: str, pid: int) -> None:
    """End the backend ``pid`` from another session, and wait until it is gone."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.01)


def test_postgres_idle_connection_is_pinged_and_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection that died while idle is found by its ping and replaced: no request sees it."""
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.2)
    engine = make_engine(postgres_url)
    try:
        first = _backend_pid(engine)
        _terminate(postgres_url, first)
        time.sleep(0.3)
        second = _backend_pid(engine)
        assert second != first
        assert _backend_pid(engine) == second  # the new connection went back to the pool and is reused
    finally:
        engine.dispose()


def test_postgres_recent_connection_is_used_without_ping(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection returned a moment ago is not pinged: if it died since, its statement fails as a 503
    and the pool is renewed, so the next transaction works."""
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 60.0)
    engine = make_engine(postgres_url)
    try:
        first = _backend_pid(engine)
        _terminate(postgres_url, first)
        with pytest.raises(TemporarilyUnavailable):
            _backend_pid(engine)
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_postgres_statements_are_prepared_when_they_run_again(postgres_url: str) -> None:
    """A pooled connection prepares a statement at its second execution (``PREPARE_AFTER``), not its sixth
    (psycopg's default), so that PostgreSQL settles on a kept plan after a few executions; a statement run
    once is not prepared."""
    engine = make_engine(postgres_url)
    prepared = "SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'SELECT _ AS prepare%%'"
    try:
        with transaction(engine) as conn:
            conn.exec_driver_sql("SELECT 1 AS prepare_probe_once")
            assert conn.exec_driver_sql(prepared).all() == []
            conn.exec_driver_sql("SELECT 2 AS prepare_probe_twice")
            conn.exec_driver_sql("SELECT 2 AS prepare_probe_twice")
            statements = [row[0] for row in conn.exec_driver_sql(prepared)]
        assert statements == ["SELECT 2 AS prepare_probe_twice"], statements
    finally:
        engine.dispose()


def test_postgres_pool_hands_out_the_connection_returned_last(postgres_url: str) -> None:
    """Of several idle pooled connections, a request gets the one used last, which holds its statements
    prepared, rather than each in turn."""
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as first, engine.connect() as second:  # two connections in the pool
            pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c in (first, second)]
        # ``first`` was returned last (``with`` closes ``second`` first): it is handed out every time.
        assert {_backend_pid(engine) for _ in range(4)} == {pids[0]}, pids
    finally:
        engine.dispose()


def _state_of(url: str, pid: int) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    assert row is not None
    return str(row[0])


def test_postgres_read_holds_no_transaction_and_write_is_atomic(postgres_url: str) -> None:
    """Between a read's statements the session holds no open transaction (each statement commits on its
    own); a write transaction stays open until its block ends, and an error inside it undoes what it did."""
    engine = make_engine(postgres_url)
    try:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS engine_probe (x INTEGER)")
        with transaction(engine) as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            assert _state_of(postgres_url, pid) == "idle"
        with transaction(engine, write=True) as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            assert _state_of(postgres_url, pid) == "idle in transaction"

        def insert_then_fail() -> None:
            with transaction(engine, write=True) as conn:
                conn.exec_driver_sql("INSERT INTO engine_probe VALUES (1)")
                conn.exec_driver_sql("SELECT no_such_column FROM engine_probe")

        with pytest.raises(InternalError):
            insert_then_fail()
        with transaction(engine) as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM engine_probe").scalar_one() == 0
    finally:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS engine_probe")
        engine.dispose()


def test_postgres_blocks_outside_transaction_are_still_transactions(postgres_url: str) -> None:
    """Reads switch their pooled connection to autocommit, and it goes back to transactions when it returns:
    SQLAlchemy's own ways of opening one (``engine.begin()``, a connection's autobegin) still run one, open
    until the block ends and undone on error or rollback, on the connection that served a read just before;
    and a read after them runs in autocommit again."""
    engine = make_engine(postgres_url)
    try:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS engine_begin_probe (x INTEGER)")
        with transaction(engine) as conn:  # an autocommit read on the pool's one connection
            conn.exec_driver_sql("SELECT 1")
        with engine.begin() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            assert _state_of(postgres_url, pid) == "idle in transaction"
            conn.exec_driver_sql("INSERT INTO engine_begin_probe VALUES (1)")

        def insert_then_fail() -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO engine_begin_probe VALUES (2)")
                raise RuntimeError("undo")

        with pytest.raises(RuntimeError):
            insert_then_fail()
        with engine.connect() as conn:  # autobegin, then an explicit rollback
            conn.exec_driver_sql("INSERT INTO engine_begin_probe VALUES (3)")
            conn.rollback()
        with transaction(engine) as conn:  # the same pooled connection, back in autocommit for a read
            rows = conn.exec_driver_sql("SELECT x FROM engine_begin_probe").scalars().all()
            assert (
                _state_of(postgres_url, conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
                == "idle"
            )
        assert rows == [1]
    finally:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS engine_begin_probe")
        engine.dispose()


def test_postgres_autocommit_connection_runs_statements_outside_transactions(postgres_url: str) -> None:
    """A connection that asks SQLAlchemy for autocommit (as the statistics keeper's ``VACUUM`` does) runs each
    statement on its own: one that cannot run inside a transaction block runs, a write is kept without a
    commit, and the pooled connection serves transactions again afterwards."""
    engine = make_engine(postgres_url)
    try:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS engine_autocommit_probe (x INTEGER)")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM engine_autocommit_probe")
            conn.exec_driver_sql("INSERT INTO engine_autocommit_probe VALUES (1)")
            conn.rollback()  # nothing to undo: the insert committed on its own
        with transaction(engine) as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM engine_autocommit_probe").scalar_one() == 1
        with transaction(engine, write=True) as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            assert _state_of(postgres_url, pid) == "idle in transaction"
    finally:
        with transaction(engine, write=True) as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS engine_autocommit_probe")
        engine.dispose()
