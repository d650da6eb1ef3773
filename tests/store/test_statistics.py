"""PostgreSQL's planner statistics are gathered while a new database fills, not a minute later."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import PostgresServer
from wayline.store.sql import SqlRegistryStore, SqlTrackingStore
from wayline.store.sql.statistics import FIRST_THRESHOLD


def _analyzed(store: SqlTrackingStore) -> dict[str, float]:
    tables = "'runs', 'params', 'tags', 'latest_metrics'"
    query = sa.text(f"SELECT relname, reltuples FROM pg_class WHERE relname IN ({tables})")
    with store.engine.connect() as conn:
        return {str(name): float(tuples) for name, tuples in conn.execute(query)}


@pytest.mark.postgres
def test_runs_table_is_analyzed_once_the_first_threshold_is_passed(postgres_server: PostgresServer) -> None:
    store = SqlTrackingStore(postgres_server.create_database(), "mlflow-artifacts:/")
    try:
        for _ in range(FIRST_THRESHOLD - 1):
            store.create_run("0", user_id="u", start_time=1)
        store.statistics.wait()
        assert _analyzed(store)["runs"] < 0  # never analyzed: the planner would assume an empty table
        store.create_run("0", user_id="u", start_time=1)
        store.statistics.wait()
        assert _analyzed(store)["runs"] == FIRST_THRESHOLD
    finally:
        store.close()


def test_sqlite_never_analyzes(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "a"))
    for _ in range(FIRST_THRESHOLD + 1):
        store.create_run("0", user_id="u", start_time=1)
    assert store.statistics._running is None
    store.close()


@pytest.mark.postgres
def test_registry_tables_are_analyzed_as_the_registry_fills(postgres_server: PostgresServer) -> None:
    with SqlRegistryStore(postgres_server.create_database()) as registry:
        registry.create_registered_model("m")
        for _ in range(FIRST_THRESHOLD - 2):
            registry.create_model_version("m", "s3://bucket/m")
        registry.statistics.wait()
        query = sa.text("SELECT reltuples FROM pg_class WHERE relname = 'model_versions'")
        with registry.engine.connect() as conn:
            assert conn.execute(query).scalar_one() < 0  # never analyzed yet
        registry.create_model_version("m", "s3://bucket/m")  # the 50th model or version created
        registry.statistics.wait()
        with registry.engine.connect() as conn:
            assert conn.execute(query).scalar_one() == FIRST_THRESHOLD - 1
