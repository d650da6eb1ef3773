"""Statements run as the driver's SQL answer as SQLAlchemy's execution does, on both dialects."""

from __future__ import annotations

import gc
import time
import weakref

import psycopg
import pytest
import sqlalchemy as sa

from wayline.errors import TemporarilyUnavailable
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql import engine as engine_module
from wayline.store.sql import schema as t
from wayline.store.sql.driver import driver_execute_many, driver_query, driver_rowcount, driver_rows
from wayline.store.sql.engine import make_engine, transaction

_TAGS = sa.select(t.tags.c.key, t.tags.c.value).where(
    t.tags.c.run_id == sa.bindparam("run_id"), t.tags.c.key >= sa.bindparam("from_key")
)
_INSERT = t.tags.insert()


def test_driver_statements_match_sqlalchemy(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", user_id="u", start_time=1, tags=[], run_name="r").info.run_id
    with transaction(store.engine, write=True) as conn:
        driver_execute_many(conn, _INSERT, [{"run_id": run_id, "key": "a", "value": "1", "experiment_id": 0}])
        driver_execute_many(
            conn,
            _INSERT,
            [
                {"experiment_id": 0, "value": "2", "key": "b", "run_id": run_id},
                {"run_id": run_id, "key": "c", "value": "3", "experiment_id": 0},
            ],
        )
    with transaction(store.engine) as conn:
        params = {"from_key": "b", "run_id": run_id}
        fast = driver_rows(conn, _TAGS, params)
        slow = [tuple(row) for row in conn.execute(_TAGS, params)]
        none = driver_rows(conn, _TAGS, {"run_id": "0" * 32, "from_key": ""})
    assert sorted(fast) == sorted(slow)
    assert {("b", "2"), ("c", "3")} <= set(fast)
    assert ("a", "1") not in fast
    assert none == []


class _Upper(sa.types.TypeDecorator[str]):
    """A bound value upper-cased on its way to the database: a type with a bind processor."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else value.upper()


_KEYS_IN = (
    sa.select(t.tags.c.key, t.tags.c.value)
    .where(t.tags.c.run_id == sa.bindparam("run_id"), t.tags.c.key.in_(sa.bindparam("keys", expanding=True)))
    .order_by(t.tags.c.key)
)
_KEY_IS = sa.select(t.tags.c.key, t.tags.c.value).where(
    t.tags.c.run_id == sa.bindparam("run_id"), t.tags.c.key == sa.bindparam("key", type_=_Upper())
)


def test_driver_rows_process_bound_values_and_expand_lists(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", user_id="u", start_time=1, tags=[], run_name="r").info.run_id
    tags = [{"run_id": run_id, "key": k, "value": v, "experiment_id": 0} for k, v in [("A", "1"), ("B", "2")]]
    with transaction(store.engine, write=True) as conn:
        driver_execute_many(conn, _INSERT, tags)
    with transaction(store.engine) as conn:
        processed = driver_rows(conn, _KEY_IS, {"run_id": run_id, "key": "b"})
        # The same statement with lists of other lengths (its SQL differs: SQLAlchemy runs it).
        one = driver_rows(conn, _KEYS_IN, {"run_id": run_id, "keys": ["A"]})
        two = driver_rows(conn, _KEYS_IN, {"run_id": run_id, "keys": ["A", "B", "C"]})
        with pytest.raises(ValueError, match="missing bound parameters: \\['run_id'\\]"):
            driver_rows(conn, _KEY_IS, {"key": "b"})
        # Its SQL as the driver takes it exists only for one list: the binary reads refuse it.
        with pytest.raises(ValueError, match="expanding list"):
            driver_query(conn, _KEYS_IN, {"run_id": run_id, "keys": ["A"]})
    assert processed == [("B", "2")]
    assert one == [("A", "1")]
    assert two == [("A", "1"), ("B", "2")]


def test_driver_statements_are_not_kept_alive(store: SqlTrackingStore) -> None:
    """A statement dropped by its cache takes its compiled form along (search shapes are unbounded)."""
    stmt = sa.select(t.tags.c.key).where(t.tags.c.run_id == sa.bindparam("run_id"))
    with transaction(store.engine) as conn:
        assert driver_rows(conn, stmt, {"run_id": "0" * 32}) == []
    alive = weakref.ref(stmt)
    del stmt
    gc.collect()
    assert alive() is None


def test_driver_statements_need_plain_parameter_names(store: SqlTrackingStore) -> None:
    stmt = sa.select(t.tags.c.key).where(t.tags.c.run_id == sa.bindparam("run id"))
    with transaction(store.engine) as conn, pytest.raises(ValueError, match="plain parameter names"):
        driver_rows(conn, stmt, {"run id": "0" * 32})


_ABS = sa.select(sa.func.abs(sa.bindparam("n", type_=sa.BigInteger)).label("abs_of_n"))


def test_driver_statements_fail_as_sqlalchemy_statements_do(store: SqlTrackingStore) -> None:
    """A statement run on the driver's cursor is seen by the engine's cursor listeners, and a database error
    comes out wrapped by SQLAlchemy, leaving the connection usable: |-2^63| overflows a 64-bit integer on
    both databases."""
    seen: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", listen)
    try:
        with transaction(store.engine) as conn:
            with pytest.raises(sa.exc.DBAPIError) as caught:
                driver_rows(conn, _ABS, {"n": -(2**63)})
            assert not caught.value.connection_invalidated
            assert driver_rows(conn, _ABS, {"n": -5}) == [(5,)]
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", listen)
    assert len([statement for statement in seen if "abs_of_n" in statement]) == 2


def test_driver_statement_on_a_lost_connection_is_unavailable(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection that died a moment after its last use fails its next driver statement as a 503
    (clients retry it), and the pool is renewed: the next transaction runs on a new connection."""
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 60.0)
    engine = make_engine(postgres_url)
    pid = sa.select(sa.func.pg_backend_pid())
    try:
        with transaction(engine) as conn:
            ((first,),) = driver_rows(conn, pid, {})
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (first,)).fetchone():
                time.sleep(0.01)
        with pytest.raises(TemporarilyUnavailable), transaction(engine) as conn:
            driver_rows(conn, pid, {})
        with transaction(engine) as conn:
            ((second,),) = driver_rows(conn, pid, {})
        assert second != first
    finally:
        engine.dispose()


def test_driver_writes_commit_as_you_go(store: SqlTrackingStore) -> None:
    """On a connection with no transaction begun, a driver statement begins one, as SQLAlchemy's execution
    does, so that the caller's ``commit`` keeps its write; an expanding list's count comes from SQLAlchemy."""
    run_id = store.create_run("0", user_id="u", start_time=1, tags=[], run_name="r").info.run_id
    insert = t.tags.insert().values(
        run_id=sa.bindparam("run_id"), key=sa.bindparam("key"), value="v", experiment_id=0
    )
    delete = t.tags.delete().where(
        t.tags.c.run_id == sa.bindparam("run_id"), t.tags.c.key.in_(sa.bindparam("keys", expanding=True))
    )
    with store.engine.connect() as conn:
        assert driver_rowcount(conn, insert, {"run_id": run_id, "key": "kept"}) == 1
        assert driver_rowcount(conn, insert, {"run_id": run_id, "key": "gone"}) == 1
        conn.commit()
    with store.engine.connect() as conn:
        assert driver_rowcount(conn, delete, {"run_id": run_id, "keys": ["gone", "never"]}) == 1
        conn.commit()
    assert store.get_run(run_id).data.tags == {"mlflow.runName": "r", "kept": "v"}
