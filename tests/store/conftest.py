"""Store fixtures: the same contract suite on SQLite (a fresh file per test) and PostgreSQL.

PostgreSQL uses the session's throwaway database (one per xdist worker); each test starts from empty tables
(rows deleted, id sequences restarted) and a fresh store, which re-creates the Default experiment.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from wayline.entities import RunTag
from wayline.store.sql import SqlTrackingStore, make_engine
from wayline.store.sql.schema import metadata

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """An engine on the session database, used to empty it between tests."""
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        # A throwaway database: no need to wait for WAL flushes at every commit.
        database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
        conn.exec_driver_sql(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
        conn.commit()
    yield engine
    engine.dispose()


def _empty(engine: sa.Engine) -> None:
    """Delete every row and restart the id sequences (much faster than TRUNCATE for tiny tables)."""
    with engine.begin() as conn:
        if not sa.inspect(conn).has_table("experiments"):
            return
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), 1, false), "
            "setval(pg_get_serial_sequence('datasets', 'dataset_id'), 1, false)"
        )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database URL for this test: a new SQLite file, or the emptied PostgreSQL session database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'wayline.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _empty(request.getfixturevalue("postgres_engine"))
    return url


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A brand-new empty database (for migration tests): a new SQLite file or a new PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty' / 'wayline.db'}"
    return str(request.getfixturevalue("postgres_server").create_database())


@pytest.fixture
def empty_engine(empty_db_url: str) -> Iterator[sa.Engine]:
    """An engine on :func:`empty_db_url` (nothing migrated yet)."""
    opened = make_engine(empty_db_url)
    yield opened
    opened.dispose()


@pytest.fixture
def artifact_root(tmp_path: Path) -> str:
    return str(tmp_path / "artifacts")


@pytest.fixture
def store(db_url: str, artifact_root: str) -> Iterator[SqlTrackingStore]:
    with SqlTrackingStore(db_url, artifact_root) as opened:
        yield opened


@pytest.fixture
def experiment_id(store: SqlTrackingStore) -> str:
    return store.create_experiment("contract")


_clock = itertools.count(1_700_000_000_000, 1000)


@pytest.fixture
def new_run(store: SqlTrackingStore, experiment_id: str) -> Callable[..., str]:
    """Create a run (in the ``contract`` experiment unless told) and return its id."""

    def make(
        experiment: str | None = None,
        *,
        name: str | None = None,
        start_time: int | None = None,
        tags: dict[str, str] | None = None,
        user_id: str = "alice",
    ) -> str:
        run = store.create_run(
            experiment or experiment_id,
            user_id=user_id,
            start_time=next(_clock) if start_time is None else start_time,
            tags=[RunTag(k, v) for k, v in (tags or {}).items()],
            run_name=name,
        )
        return run.info.run_id

    return make
