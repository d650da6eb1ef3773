"""One-statement writes: on PostgreSQL without a SQLAlchemy Connection unless something watches the engine's
statements; errors and lost connections as in any transaction."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidParameterValue, ResourceNotFound, TemporarilyUnavailable
from wayline.store.sql import SqlTrackingStore, statistics
from wayline.store.sql import engine as engine_module
from wayline.store.sql import schema as t
from wayline.store.sql.one_statement import one_statement

#: The ``store`` of a test on PostgreSQL only (the contract suite's ``backend`` parameter, narrowed).
_POSTGRES_ONLY = pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
_BACKEND_PID = sa.select(sa.func.pg_backend_pid())
_INSERT_TAG = t.tags.insert().values(
    run_id=sa.bindparam("run_id"), key=sa.bindparam("key"), value=sa.bindparam("value"), experiment_id=0
)


@pytest.fixture
def connections_made(store: SqlTrackingStore) -> Iterator[list[object]]:
    """The SQLAlchemy Connections the store's engine makes for the test's own calls while it runs (not its
    statistics keeper's, in its background thread); ``engine_connect`` is not a statement event, so it does
    not count as watching statements."""
    made: list[object] = []

    def count(conn: object) -> None:
        if threading.current_thread().name != statistics.THREAD_NAME:
            made.append(conn)

    sa.event.listen(store.engine, "engine_connect", count)
    yield made
    sa.event.remove(store.engine, "engine_connect", count)


def _writes_without_connections(store: SqlTrackingStore, run_id: str, made: list[object]) -> None:
    store.log_batch(run_id, metrics=[Metric("loss", 0.5, 10, 1)])
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    store.log_batch(run_id, tags=[RunTag("team", "a")])
    assert made == []


@_POSTGRES_ONLY
def test_postgres_single_writes_need_no_sqlalchemy_connection(
    store: SqlTrackingStore, connections_made: list[object]
) -> None:
    """A single point, param or tag is written without a SQLAlchemy Connection, and is stored."""
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
    connections_made.clear()
    _writes_without_connections(store, run_id, connections_made)
    data = store.get_run(run_id).data
    assert [(m.key, m.value, m.step) for m in data.metrics] == [("loss", 0.5, 1)]
    assert (data.params["lr"], data.tags["team"]) == ("0.1", "a")


@_POSTGRES_ONLY
def test_postgres_watched_statements_go_through_a_connection(
    store: SqlTrackingStore, connections_made: list[object], caplog: pytest.LogCaptureFixture
) -> None:
    """A listener of the statement events sees the one-statement writes (they then run on a Connection), as
    does SQLAlchemy's SQL log; without them, writes go back to the driver."""
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
    seen: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.current_thread().name != statistics.THREAD_NAME:
            seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", listen)
    try:
        connections_made.clear()
        store.log_batch(run_id, metrics=[Metric("loss", 0.5, 10, 1)])
        store.log_batch(run_id, tags=[RunTag("team", "a")])
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", listen)
    assert len(connections_made) == 2
    assert [s.split()[0] for s in seen] == ["WITH", "INSERT"], seen

    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        store.log_batch(run_id, tags=[RunTag("team", "b")])
    assert any("INSERT INTO tags" in record.getMessage() for record in caplog.records)

    connections_made.clear()
    _writes_without_connections(store, run_id, connections_made)


def test_one_statement_errors_are_translated(store: SqlTrackingStore) -> None:
    """A value too long for its column is the caller's error (400), on either backend and path; the pooled
    connection serves the next write."""
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
    too_long = {"run_id": run_id, "key": "k" * 1000, "value": "v"}
    if store.dialect == "postgresql":
        with (
            pytest.raises(InvalidParameterValue, match="too long"),
            one_statement(store.engine) as statements,
        ):
            statements.rowcount(_INSERT_TAG, too_long)
    with one_statement(store.engine) as statements:
        assert statements.rowcount(_INSERT_TAG, {"run_id": run_id, "key": "k", "value": "v"}) == 1
    assert store.get_run(run_id).data.tags["k"] == "v"


def test_one_statement_refuses_a_statement_it_cannot_run_as_driver_sql(store: SqlTrackingStore) -> None:
    expanding = sa.select(t.tags.c.key).where(t.tags.c.key.in_(sa.bindparam("keys", expanding=True)))
    if store.dialect != "postgresql":
        with one_statement(store.engine) as statements:  # SQLAlchemy runs it
            assert statements.rows(expanding, {"keys": ["a"]}) == []
        return
    with pytest.raises(ValueError, match="driver SQL"), one_statement(store.engine) as statements:
        statements.rows(expanding, {"keys": ["a"]})


@_POSTGRES_ONLY
def test_postgres_one_statement_on_a_lost_connection_is_unavailable(
    store: SqlTrackingStore, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection that died a moment after its last use fails the next one-statement write as a 503
    and stores nothing; the pool is renewed and the write then succeeds on a new connection."""
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 60.0)
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
    store.statistics.wait()  # nothing else uses the pool now: the next checkout gets the connection back last
    with one_statement(store.engine) as statements:
        ((first,),) = statements.rows(_BACKEND_PID, {})
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (first,)).fetchone():
            time.sleep(0.01)
    with pytest.raises(TemporarilyUnavailable):
        store.log_batch(run_id, tags=[RunTag("team", "a")])
    assert "team" not in store.get_run(run_id).data.tags
    store.log_batch(run_id, tags=[RunTag("team", "a")])
    with one_statement(store.engine) as statements:
        ((second,),) = statements.rows(_BACKEND_PID, {})
    assert second != first
    assert store.get_run(run_id).data.tags["team"] == "a"


def test_one_statement_write_on_a_missing_run(store: SqlTrackingStore) -> None:
    """The statement changes nothing for a run that does not exist; the store then says which run."""
    for batch in ({"metrics": [Metric("m", 1.0, 1, 0)]}, {"tags": [RunTag("t", "1")]}):
        with pytest.raises(ResourceNotFound, match="nope"):
            store.log_batch("nope", **batch)  # type: ignore[arg-type]
