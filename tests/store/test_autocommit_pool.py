"""The autocommit pool of one-statement writes on PostgreSQL: connections kept aside in autocommit mode,
pinged after sitting idle, recycled when old, closed when lost, disposed of with the store, and bounded
(a write that finds them all in use runs on the engine's own pool)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from wayline.entities import Metric, RunTag
from wayline.errors import TemporarilyUnavailable
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql.autocommit_pool import AutocommitPool
from wayline.store.sql.engine import autocommit_pool, make_engine
from wayline.store.sql.one_statement import one_statement
from workers import run_workers

#: The ``store`` of a test on PostgreSQL only (the contract suite's ``backend`` parameter, narrowed).
_POSTGRES_ONLY = pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])

_BACKEND_PID = sa.select(sa.func.pg_backend_pid())


def _pool(store: SqlTrackingStore) -> AutocommitPool:
    pool = autocommit_pool(store.engine)
    assert pool is not None
    return pool


def _write_pid(store: SqlTrackingStore) -> int:
    """The backend of the connection a one-statement write runs on."""
    with one_statement(store.engine) as statements:
        ((pid,),) = statements.rows(_BACKEND_PID, {})
    return int(pid)


def _state(url: str, pid: int) -> str | None:
    """The backend's state in ``pg_stat_activity``: None once it is gone."""
    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return None if row is None else str(row[0])


def _gone(url: str, pid: int) -> bool:
    deadline = time.monotonic() + 10
    while _state(url, pid) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert _gone(url, pid)


@_POSTGRES_ONLY
def test_writes_reuse_one_connection_left_idle_in_autocommit(
    store: SqlTrackingStore, postgres_url: str
) -> None:
    """Writes one after another run on the same connection, which holds no transaction between them and is
    not one of the engine's pool."""
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
    first = _write_pid(store)
    store.log_batch(run_id, metrics=[Metric("loss", 0.5, 10, 1)])
    store.log_batch(run_id, tags=[RunTag("team", "a")])
    assert _write_pid(store) == first
    assert _state(postgres_url, first) == "idle"
    assert _pool(store).open == 1
    store.statistics.wait()  # its keeper, in the background, may hold a connection of the engine's pool
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    data = store.get_run(run_id).data
    assert ([m.value for m in data.metrics], data.tags["team"]) == ([0.5], "a")


@_POSTGRES_ONLY
def test_a_connection_that_died_while_idle_is_pinged_and_replaced(
    store: SqlTrackingStore, postgres_url: str
) -> None:
    """A kept connection idle past ``ping_after`` is pinged first; a dead one is replaced, so the write
    works and no client sees the loss."""
    pool = _pool(store)
    pool.ping_after = 0.2
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
    first = _write_pid(store)
    _terminate(postgres_url, first)
    time.sleep(0.3)
    store.log_batch(run_id, tags=[RunTag("team", "a")])
    second = _write_pid(store)
    assert second != first
    assert pool.open == 1
    assert store.get_run(run_id).data.tags["team"] == "a"


@_POSTGRES_ONLY
def test_an_old_connection_is_recycled(store: SqlTrackingStore, postgres_url: str) -> None:
    """A kept connection older than ``recycle_after`` is closed and replaced at its next checkout."""
    pool = _pool(store)
    first = _write_pid(store)
    pool.recycle_after = 0.0
    second = _write_pid(store)
    assert second != first
    assert _gone(postgres_url, first)
    assert pool.open == 1


@_POSTGRES_ONLY
def test_a_full_pool_leaves_writes_to_the_engine_pool(store: SqlTrackingStore) -> None:
    """With every kept connection in use, a write runs on a connection of the engine's pool, which goes
    back to transactions when it returns; the pool never opens more than its size."""
    pool = _pool(store)
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
    held = [pool.checkout(store.engine) for _ in range(pool.size)]
    try:
        assert pool.checkout(store.engine) is None
        store.log_batch(run_id, tags=[RunTag("team", "a")])
        store.log_batch(run_id, metrics=[Metric("loss", 0.5, 10, 1)])
        assert pool.open == pool.size
        with store.engine.connect() as conn:
            assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
    finally:
        for one in held:
            assert one is not None
            pool.checkin(one)
    data = store.get_run(run_id).data
    assert ([m.value for m in data.metrics], data.tags["team"]) == ([0.5], "a")
    assert pool.open == pool.size  # kept for the next writes


@_POSTGRES_ONLY
def test_writes_from_many_threads_at_once(store: SqlTrackingStore) -> None:
    """Threads writing at the same moment all succeed, on the kept connections or the engine's pool, and
    every point is stored."""
    pool = _pool(store)
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
    threads, steps = 8, 40
    start = threading.Barrier(threads)

    def write(index: int) -> None:
        start.wait()
        for step in range(steps):
            store.log_batch(run_id, metrics=[Metric(f"m{index}", float(step), 1, step)])

    run_workers(write, threads)
    assert 1 <= pool.open <= pool.size
    for index in range(threads):
        history = store.get_metric_history(run_id, f"m{index}")
        assert [m.step for m in history] == list(range(steps))


@_POSTGRES_ONLY
def test_a_connection_back_in_a_transaction_is_closed(store: SqlTrackingStore) -> None:
    """A connection that comes back with a transaction open (a statement cut short) is closed, not kept."""
    pool = _pool(store)
    held = pool.checkout(store.engine)
    assert held is not None
    held.driver.autocommit = False
    held.driver.execute("SELECT 1")
    pool.checkin(held)
    assert held.driver.closed
    assert pool.open == 0
    _write_pid(store)
    assert pool.open == 1


@_POSTGRES_ONLY
def test_dispose_closes_idle_connections_and_those_in_use_when_they_return(
    store: SqlTrackingStore, postgres_url: str
) -> None:
    pool = _pool(store)
    in_use = pool.checkout(store.engine)
    assert in_use is not None
    idle = _write_pid(store)  # on a second connection, then kept idle
    pool.dispose()
    assert _gone(postgres_url, idle)
    assert not in_use.driver.closed
    pool.checkin(in_use)
    assert in_use.driver.closed
    assert pool.open == 0
    assert _write_pid(store) != idle


@_POSTGRES_ONLY
def test_closing_the_store_closes_the_kept_connections(
    db_url: str, artifact_root: str, postgres_url: str
) -> None:
    store = SqlTrackingStore(db_url, artifact_root)
    pid = _write_pid(store)
    store.close()
    assert _gone(postgres_url, pid)


@pytest.mark.postgres
def test_a_failed_connect_gives_its_place_back(postgres_url: str) -> None:
    """A connection that cannot be made fails the write as a 503 without using up the pool."""
    engine = make_engine(postgres_url.rsplit("/", 1)[0] + "/wayline_no_such_database")
    pool = autocommit_pool(engine)
    assert pool is not None
    try:
        for _ in range(pool.size + 1):
            with pytest.raises(TemporarilyUnavailable), one_statement(engine) as statements:
                statements.rows(_BACKEND_PID, {})
        assert pool.open == 0
    finally:
        engine.dispose()


def test_sqlite_engines_have_no_autocommit_pool(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wayline.db")
    try:
        assert autocommit_pool(engine) is None
    finally:
        engine.dispose()
