"""The connection pool's limits on PostgreSQL: read from the environment (Wayline's names, then MLflow's),
checked, applied to the engine; a request that finds every connection in use fails with a 503 after the
pool's timeout; and the connection budget a server checks at startup."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from wayline.errors import InvalidParameterValue, TemporarilyUnavailable
from wayline.store.pool_limits import AUTOCOMMIT_POOL_SIZE, ConnectionBudget, PoolLimits, connection_budget
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql.engine import dispose, make_engine

#: A test on PostgreSQL only (the store suite's ``backend`` parameter, narrowed): ``db_url`` is emptied first.
_POSTGRES_ONLY = pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])


def test_defaults_when_the_environment_sets_nothing() -> None:
    assert PoolLimits.from_env({}) == PoolLimits(size=10, max_overflow=5, timeout_s=30)
    assert PoolLimits().per_process == 10 + 5 + AUTOCOMMIT_POOL_SIZE


def test_wayline_names_win_over_mlflow_names() -> None:
    env = {
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "7",
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "3",
        "WAYLINE_DB_MAX_OVERFLOW": "0",
        "WAYLINE_DB_POOL_TIMEOUT": " 5 ",
    }
    assert PoolLimits.from_env(env) == PoolLimits(size=7, max_overflow=0, timeout_s=5)


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("WAYLINE_DB_POOL_SIZE", "ten", "must be an integer"),
        ("WAYLINE_DB_POOL_SIZE", "0", "between 1 and 1000"),
        ("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", "1001", "between 1 and 1000"),
        ("WAYLINE_DB_MAX_OVERFLOW", "-1", "between 0 and 1000"),
        ("MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW", "2.5", "must be an integer"),
        ("WAYLINE_DB_POOL_TIMEOUT", "0", "between 1 and 3600"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, raw: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=rf"'{name}'.*{message}"):
        PoolLimits.from_env({name: raw})


def test_checked_names_the_field_it_is_given() -> None:
    with pytest.raises(InvalidParameterValue, match=r"'db_pool_size'.*between 1 and 1000"):
        PoolLimits(size=0).checked(names={"size": "db_pool_size"})
    with pytest.raises(InvalidParameterValue, match=r"'max_overflow'"):
        PoolLimits(max_overflow=True).checked()


@pytest.mark.postgres
def test_the_engine_pools_by_the_limits_given_else_by_the_environment(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_url, PoolLimits(size=3, max_overflow=2, timeout_s=4))
    try:
        assert "Pool size: 3" in engine.pool.status()
        assert engine.pool.timeout() == 4  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 2  # type: ignore[attr-defined]
    finally:
        dispose(engine)
    monkeypatch.setenv("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", "6")
    engine = make_engine(postgres_url)
    try:
        assert "Pool size: 6" in engine.pool.status()
    finally:
        dispose(engine)
    monkeypatch.setenv("WAYLINE_DB_POOL_SIZE", "none")
    with pytest.raises(InvalidParameterValue, match="'WAYLINE_DB_POOL_SIZE'"):
        make_engine(postgres_url)


@_POSTGRES_ONLY
def test_a_request_that_finds_every_connection_in_use_gets_a_503_and_loses_nothing(db_url: str) -> None:
    limits = PoolLimits(size=1, max_overflow=0, timeout_s=1)
    with SqlTrackingStore(db_url, "/tmp/artifacts", pool_limits=limits) as store:
        store.statistics.wait()
        run = store.create_run("0", user_id="someone", start_time=1, run_name="run")
        held = threading.Event()
        release = threading.Event()

        def hold_the_only_connection() -> None:
            with store.engine.connect():
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold_the_only_connection)
        holder.start()
        try:
            assert held.wait(10)
            started = time.monotonic()
            with pytest.raises(TemporarilyUnavailable, match="Every database connection is in use") as caught:
                store.get_run(run.info.run_id)
            waited = time.monotonic() - started
            assert 0.9 <= waited < 10
            assert caught.value.http_status == 503
        finally:
            release.set()
            holder.join(10)
        assert store.get_run(run.info.run_id).info.run_name == "run"


@pytest.mark.postgres
def test_the_budget_is_what_the_database_allows(postgres_url: str) -> None:
    engine = make_engine(postgres_url, PoolLimits())
    with psycopg.connect(postgres_url, autocommit=True) as other:
        maximum, reserved = other.execute(
            "SELECT current_setting('max_connections')::int,"
            " current_setting('superuser_reserved_connections')::int"
        ).fetchone() or (0, 0)
        try:
            budget = connection_budget(engine)
        finally:
            dispose(engine)
    assert budget is not None
    assert budget.max_connections == maximum
    assert budget.reserved >= reserved
    assert budget.others >= 1  # the connection above, at least
    assert budget.free == maximum - budget.reserved - budget.others


@pytest.mark.postgres
def test_the_budget_of_a_database_that_does_not_answer_is_none(postgres_url: str) -> None:
    engine = make_engine(postgres_url.rsplit("/", 1)[0] + "/no_such_database_here")
    try:
        assert connection_budget(engine) is None
    finally:
        dispose(engine)


def test_the_budget_of_a_sqlite_database_is_none() -> None:
    engine = make_engine("sqlite:///:memory:")
    try:
        assert connection_budget(engine) is None
    finally:
        dispose(engine)


def test_four_workers_at_the_defaults_fit_a_default_postgresql() -> None:
    budget = ConnectionBudget(max_connections=100, reserved=3, others=10)
    assert budget.shortfall(PoolLimits(), processes=4) is None  # 4 × (10 + 5 + 4) = 76 ≤ 87
    assert budget.shortfall(PoolLimits(), processes=5) is not None  # 95 > 87


def test_a_shortfall_counts_every_workers_connections() -> None:
    budget = ConnectionBudget(max_connections=100, reserved=3, others=7)
    limits = PoolLimits(size=10, max_overflow=5)
    assert budget.shortfall(limits, processes=4) is None  # 4 × 19 = 76 ≤ 90
    message = budget.shortfall(limits, processes=5)  # 95 > 90
    assert message is not None
    assert "5 worker(s) may open up to 95 PostgreSQL connections" in message
    assert "(10 pooled + 5 overflow + 4 for one-statement writes each)" in message
    assert "allows 97 (max_connections 100 less 3 reserved) and other clients hold 7" in message
    assert "--db-pool-size" in message
