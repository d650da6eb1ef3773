"""Migrations: new databases are created, old or foreign ones refused, and schema.py equals the migrations."""

from __future__ import annotations

import shutil
import textwrap
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidState
from wayline.store.sql import SqlTrackingStore, current_revision, head_revision, make_engine, upgrade
from wayline.store.sql.migrate import MIGRATIONS_DIR, VERSION_TABLE, alembic_config, ensure_schema
from wayline.store.sql.schema import metadata


def _diff(engine: sa.Engine) -> list[object]:
    dialect = engine.dialect.name

    def on_this_dialect(obj: object, name: object, type_: str, reflected: bool, compare_to: object) -> bool:
        """Indexes that schema.py creates on one dialect only (``ddl_if``) are compared on that dialect."""
        ddl_if = getattr(obj, "_ddl_if", None)
        return reflected or ddl_if is None or ddl_if.dialect in (None, dialect)

    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; PostgreSQL's prefix indexes are not created there.
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "version_table": VERSION_TABLE,
                "include_object": on_this_dialect,
            },
        )
        return list(compare_metadata(context, metadata))


def test_new_database_is_created(empty_db_url: str, artifact_root: str) -> None:
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        assert current_revision(store.engine) == head_revision()
        assert store.get_experiment("0").name == "Default"
        tables = set(sa.inspect(store.engine).get_table_names())
        assert set(metadata.tables) | {VERSION_TABLE} == tables
    # Reopening an up-to-date database changes nothing.
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        assert [e.name for e in store.search_experiments()] == ["Default"]


def test_metadata_equals_migrations(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert upgrade(engine) == head_revision()
        assert _diff(engine) == []
        # The comparison does see indexes and columns: break one and it reports it.
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_latest_metrics_experiment_key_nan_value")
        assert _diff(engine) != []
    finally:
        engine.dispose()


#: A revision after the package's head, known only to the copy of the scripts that tests make.
EXTRA_REVISION = "9999"


def _with_extra_revision(tmp_path: Path) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "9999_extra.py").write_text(
        textwrap.dedent(
            f'''
            """A later revision, for tests."""
            import sqlalchemy as sa
            from alembic import op

            revision = "{EXTRA_REVISION}"
            down_revision = "{head_revision()}"
            branch_labels = None
            depends_on = None


            def upgrade() -> None:
                op.add_column("runs", sa.Column("extra", sa.Integer, nullable=True))


            def downgrade() -> None:
                op.drop_column("runs", "extra")
            '''
        )
    )
    return copy


def test_older_revision_is_refused_until_upgraded(empty_db_url: str, tmp_path: Path) -> None:
    newer = _with_extra_revision(tmp_path)
    engine = make_engine(empty_db_url)
    try:
        head = head_revision()
        ensure_schema(engine)  # creates the package's head revision
        needs = rf"revision {head}.*needs revision {EXTRA_REVISION}.*`wayline db upgrade`"
        with pytest.raises(InvalidState, match=needs):
            ensure_schema(engine, newer)
        assert current_revision(engine) == head  # never migrated implicitly
        assert upgrade(engine, newer) == EXTRA_REVISION
        ensure_schema(engine, newer)
        assert "extra" in {c["name"] for c in sa.inspect(engine).get_columns("runs")}
        # ...and the package's own migrations do not know 9999.
        with pytest.raises(InvalidState, match="newer Wayline"):
            ensure_schema(engine)
        with pytest.raises(InvalidState, match="newer Wayline"):
            upgrade(engine)
    finally:
        engine.dispose()


def test_database_with_foreign_tables_is_refused(empty_db_url: str, artifact_root: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT)")
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('bd07f7e963c5')")
        with pytest.raises(InvalidState, match="not a Wayline database"):
            SqlTrackingStore(empty_db_url, artifact_root)
        with pytest.raises(InvalidState, match="not a Wayline database"):
            upgrade(empty_db_url)
    finally:
        engine.dispose()


def test_upgrade_by_url_is_idempotent(empty_db_url: str) -> None:
    assert upgrade(empty_db_url) == head_revision()
    assert upgrade(empty_db_url) == head_revision()


def _migrations_until(tmp_path: Path, last: str) -> Path:
    """A copy of the migration scripts that ends at revision ``last``."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for later in copy.glob("versions/*.py"):
        if later.name[:4].isdigit() and later.name[:4] > last:
            later.unlink()
    return copy


def test_upgrading_to_unique_points_keeps_one_of_each(empty_db_url: str, tmp_path: Path) -> None:
    before = _migrations_until(tmp_path, "0006")
    engine = make_engine(empty_db_url)
    try:
        assert upgrade(engine, before) == "0006"
        rows = [("r" * 32, "m", step, 1000 + step, value, False) for step, value in [(1, 0.5), (2, 1.5)]]
        rows += [("r" * 32, "m", 1, 1001, 0.5, False), ("r" * 32, "m", 3, 1003, 0.0, True)] * 2
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) "
                    "VALUES (:r, :k, :s, :t, :v, :n)"
                ),
                [dict(zip("rkstvn", row, strict=True)) for row in rows],
            )
        assert upgrade(engine) == head_revision()
        with engine.begin() as conn:
            stored = conn.execute(sa.text("SELECT step, value, is_nan FROM metrics ORDER BY step")).all()
        assert [(s, v, bool(n)) for s, v, n in stored] == [(1, 0.5, False), (2, 1.5, False), (3, 0.0, True)]
        assert _diff(engine) == []
        primary = sa.inspect(engine).get_pk_constraint("metrics")
        assert primary["constrained_columns"] == ["run_id", "key", "step", "timestamp", "value", "is_nan"]
    finally:
        engine.dispose()


def test_rows_carry_their_runs_experiment_down_and_up_again(empty_db_url: str, artifact_root: str) -> None:
    """Revision 0008 copies each run's experiment to its latest metrics, params and tags (the search indexes
    start with it); going back to 0007 drops the copies and restores the global indexes, and upgrading again
    fills them in from the runs."""
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        experiments = [store.create_experiment(name) for name in ("a", "b")]
        for i in range(6):
            run_id = store.create_run(experiments[i % 2], user_id="u", start_time=i).info.run_id
            store.log_batch(
                run_id,
                metrics=[Metric("loss", 1 / (i + 1), 1, 0)],
                params=[Param("p", str(i % 3))],
                tags=[RunTag("t", "x")],
            )

        def searched() -> list[list[str]]:
            return [
                [r.info.run_id for r in store.search_runs([e], order_by=["metrics.loss"], max_results=10)]
                for e in experiments
            ]

        before = searched()
    engine = make_engine(empty_db_url)
    tables = ("latest_metrics", "params", "tags")
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0007")
        inspector = sa.inspect(engine)
        for table in tables:
            assert "experiment_id" not in {c["name"] for c in inspector.get_columns(table)}
        assert "ix_latest_metrics_key_nan_value" in {
            i["name"] for i in inspector.get_indexes("latest_metrics")
        }

        assert upgrade(engine) == head_revision()
        assert _diff(engine) == []
        with engine.connect() as conn:
            for table in tables:
                counts = conn.exec_driver_sql(
                    f"SELECT count(*), sum(CASE WHEN x.experiment_id = r.experiment_id THEN 1 ELSE 0 END) "
                    f"FROM {table} AS x JOIN runs AS r ON r.run_id = x.run_id"
                ).one()
                assert counts[0] >= 6, (table, counts)
                assert counts[0] == counts[1], (table, counts)
    finally:
        engine.dispose()
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        assert searched() == before
        assert [len(ids) for ids in before] == [3, 3]
