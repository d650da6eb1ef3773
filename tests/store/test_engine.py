"""Engines: URL normalisation, SQLite settings, and database errors mapped to Wayline errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wayline.errors import InternalError, InvalidParameterValue, TemporarilyUnavailable
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
