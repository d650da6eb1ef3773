"""PostgreSQL's planner statistics are gathered while a new database fills, not a minute later (or never,
where autovacuum is off), by whichever process wrote the rows."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import PostgresServer
from wayline.entities import Metric, Param
from wayline.store.sql import SqlRegistryStore, SqlTrackingStore
from wayline.store.sql import schema as t
from wayline.store.sql.statistics import _LOCK_KEY, _VACUUM_LOCK_KEY, StatisticsKeeper


def _tuples(engine: sa.Engine, table: str) -> float:
    """What the planner believes the table holds: -1 until it is first analyzed."""
    query = sa.text("SELECT reltuples FROM pg_class WHERE relname = :table")
    with engine.connect() as conn:
        return float(conn.execute(query, {"table": table}).scalar_one())


def _add_runs(engine: sa.Engine, count: int, start: int = 0) -> None:
    rows = [
        {
            "run_id": f"{start + i:032x}",
            "experiment_id": 0,
            "name": f"r{start + i}",
            "user_id": "u",
            "status": "RUNNING",
            "start_time": 1,
            "lifecycle_stage": "active",
            "artifact_uri": "mlflow-artifacts:/0",
        }
        for i in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(t.runs.insert(), rows)


@pytest.fixture
def store(postgres_server: PostgresServer) -> SqlTrackingStore:
    """A new store on a new database, whose only row (the default experiment) has been analyzed."""
    store = SqlTrackingStore(postgres_server.create_database(), "mlflow-artifacts:/")
    assert store.statistics.refresh() == ["experiments"]
    return store


@pytest.mark.postgres
def test_written_tables_are_analyzed_in_the_background(store: SqlTrackingStore) -> None:
    store.statistics = StatisticsKeeper(store.engine, interval=0)  # check after every write
    try:
        assert _tuples(store.engine, "runs") < 0  # never analyzed: the planner would assume an empty table
        run_id = store.create_run("0", user_id="u", start_time=1).info.run_id
        store.statistics.wait()
        assert _tuples(store.engine, "runs") == 1
        assert _tuples(store.engine, "params") < 0  # still empty: nothing to analyze
        store.log_batch(run_id, params=[Param("p", "v")], metrics=[Metric("m", 1.0, 1, 0)])
        store.statistics.wait()
        assert _tuples(store.engine, "params") == 1
        assert _tuples(store.engine, "latest_metrics") == 1
    finally:
        store.close()


@pytest.mark.postgres
def test_tables_are_analyzed_again_once_they_have_doubled(store: SqlTrackingStore) -> None:
    try:
        _add_runs(store.engine, 10)
        assert store.statistics.refresh() == ["runs"]
        assert store.statistics.refresh() == []  # nothing grew since
        _add_runs(store.engine, 10, start=10)  # still within the same page
        assert store.statistics.refresh() == []
        assert _tuples(store.engine, "runs") == 10
        _add_runs(store.engine, 200, start=20)  # several pages: more than twice the size analyzed
        assert store.statistics.refresh() == ["runs"]
        assert _tuples(store.engine, "runs") == 220
    finally:
        store.close()


@pytest.mark.postgres
def test_rows_written_by_another_process_are_seen(store: SqlTrackingStore) -> None:
    """Workers and replicas each count nothing: the sizes come from the database."""
    engine = sa.create_engine(store.engine.url)
    try:
        _add_runs(store.engine, 5)  # written through one engine
        assert StatisticsKeeper(engine).refresh() == ["runs"]  # seen and analyzed through another
        assert _tuples(store.engine, "runs") == 5
    finally:
        engine.dispose()
        store.close()


@pytest.mark.postgres
def test_one_process_analyzes_at_a_time(store: SqlTrackingStore) -> None:
    try:
        _add_runs(store.engine, 5)
        with store.engine.connect() as holder:
            holder.execute(sa.select(sa.func.pg_advisory_lock(_LOCK_KEY)))
            assert store.statistics.refresh() == []  # another process is analyzing
            holder.execute(sa.select(sa.func.pg_advisory_unlock(_LOCK_KEY)))
        assert _tuples(store.engine, "runs") < 0
        assert store.statistics.refresh() == ["runs"]
    finally:
        store.close()


@pytest.mark.postgres
def test_checks_are_spaced_by_the_interval(store: SqlTrackingStore) -> None:
    keeper = StatisticsKeeper(store.engine, interval=3600)
    try:
        _add_runs(store.engine, 5)
        keeper.wrote()
        keeper.wait()
        assert _tuples(store.engine, "runs") == 5
        _add_runs(store.engine, 200, start=5)
        keeper.wrote()  # within the interval: no second check
        keeper.wait()
        assert _tuples(store.engine, "runs") == 5
    finally:
        store.close()


@pytest.mark.postgres
def test_registry_tables_are_analyzed_as_the_registry_fills(postgres_server: PostgresServer) -> None:
    with SqlRegistryStore(postgres_server.create_database()) as registry:
        assert _tuples(registry.engine, "registered_models") < 0
        registry.create_registered_model("m")
        registry.statistics.wait()
        assert _tuples(registry.engine, "registered_models") == 1


def _visible_pages(engine: sa.Engine, table: str) -> int:
    """The table's pages that the visibility map marks all-visible, as of its last vacuum."""
    query = sa.text("SELECT relallvisible FROM pg_class WHERE relname = :table")
    with engine.connect() as conn:
        return int(conn.execute(query, {"table": table}).scalar_one())


def _setting(engine: sa.Engine, name: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.select(sa.func.current_setting(name))).scalar_one())


def _insert_threshold(engine: sa.Engine) -> int:
    """Rows a never-analyzed table takes before autovacuum would vacuum it for its inserts."""
    return int(_setting(engine, "autovacuum_vacuum_insert_threshold"))


def _due_rows(engine: sa.Engine) -> int:
    """New rows that make a table due for a vacuum even once it has been analyzed with them counted:
    more than ``threshold + scale factor × rows``."""
    scale = float(_setting(engine, "autovacuum_vacuum_insert_scale_factor"))
    return int((_insert_threshold(engine) + 1) / (1 - scale)) + 10


def _autovacuum_off(engine: sa.Engine, table: str) -> None:
    """Turn autovacuum off for ``table`` alone, as its storage parameter (the server's setting is shared)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")


def _add_counted_runs(engine: sa.Engine, count: int, start: int = 0) -> None:
    """``_add_runs``, with the rows counted in the server's statistics when it returns (a session reports
    its counts when it goes idle, but at most once a second unless asked to)."""
    _add_runs(engine, count, start)
    with engine.connect() as conn:
        conn.execute(sa.select(sa.func.pg_stat_force_next_flush()))


def _add_counted_params(engine: sa.Engine, count: int) -> None:
    _add_runs(engine, 1, start=10**6)
    run_id = f"{10**6:032x}"
    rows = [{"run_id": run_id, "experiment_id": 0, "key": f"p{i}", "value": "v"} for i in range(count)]
    with engine.begin() as conn:
        conn.execute(t.params.insert(), rows)
        conn.execute(sa.select(sa.func.pg_stat_force_next_flush()))


@pytest.mark.postgres
def test_tables_autovacuum_skips_are_vacuumed_once_due(store: SqlTrackingStore) -> None:
    """A table with autovacuum off is vacuumed once it holds more new rows than autovacuum's insert
    threshold, and not before; the vacuum fills its visibility map (what makes index-only scans cheap)."""
    try:
        _autovacuum_off(store.engine, "runs")
        threshold = _insert_threshold(store.engine)
        _add_counted_runs(store.engine, threshold // 2)
        assert store.statistics.vacuum() == []  # not due yet
        assert _visible_pages(store.engine, "runs") == 0
        _add_counted_runs(store.engine, threshold, start=threshold)
        assert store.statistics.vacuum() == ["runs"]
        assert _visible_pages(store.engine, "runs") > 0
        assert store.statistics.vacuum() == []  # nothing new since
    finally:
        store.close()


@pytest.mark.postgres
def test_tables_autovacuum_keeps_are_left_to_it(store: SqlTrackingStore) -> None:
    """Past the threshold, a table autovacuum looks after is vacuumed only where the server's autovacuum is
    off (as on these test machines, where the answer is the other branch's)."""
    try:
        _add_counted_params(store.engine, _insert_threshold(store.engine) + 1)
        server_vacuums = _setting(store.engine, "autovacuum") == "on"
        vacuumed = store.statistics.vacuum()
        if server_vacuums:
            assert vacuumed == []
        else:  # ``runs`` too, probably: each param's insert rewrote its run's row
            assert "params" in vacuumed
            assert _visible_pages(store.engine, "params") > 0
    finally:
        store.close()


@pytest.mark.postgres
def test_one_process_vacuums_at_a_time(store: SqlTrackingStore) -> None:
    try:
        _autovacuum_off(store.engine, "runs")
        _add_counted_runs(store.engine, _insert_threshold(store.engine) + 1)
        with store.engine.connect() as holder:
            holder.execute(sa.select(sa.func.pg_advisory_lock(_VACUUM_LOCK_KEY)))
            assert store.statistics.vacuum() == []  # another process is vacuuming
            holder.execute(sa.select(sa.func.pg_advisory_unlock(_VACUUM_LOCK_KEY)))
            holder.commit()
        assert store.statistics.vacuum() == ["runs"]
        with store.engine.connect() as other:  # the lock was let go
            assert other.execute(sa.select(sa.func.pg_try_advisory_lock(_VACUUM_LOCK_KEY))).scalar_one()
            other.execute(sa.select(sa.func.pg_advisory_unlock(_VACUUM_LOCK_KEY)))
    finally:
        store.close()


@pytest.mark.postgres
def test_writes_lead_to_a_vacuum_in_the_background(store: SqlTrackingStore) -> None:
    store.statistics = StatisticsKeeper(store.engine, interval=0)
    try:
        _autovacuum_off(store.engine, "runs")
        _add_counted_runs(
            store.engine, _due_rows(store.engine)
        )  # due, even once analyzed (which comes first)
        store.create_run("0", user_id="u", start_time=1)  # a write through the store starts the check
        store.statistics.wait()
        assert _visible_pages(store.engine, "runs") > 0
    finally:
        store.close()


def test_sqlite_never_analyzes(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "a"))
    try:
        store.create_run("0", user_id="u", start_time=1)
        assert store.statistics._running is None
        assert store.statistics.refresh() == []
    finally:
        store.close()
